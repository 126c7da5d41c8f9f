"""``RepositorySandbox``: a Docker sandbox whose workspace is a working copy of a repository of its image.

The container is made from the task's image, with the isolation of every
sandbox container (read-only root, no network, limits, a fresh uid). Its
workspace, on disk (an anonymous local volume, removed with the container;
a tmpfs only on request, ``workspace_volume=None``), gets a copy of the
repository folder of the image but its ``.git`` (a tar pipe by the root
control shell); the image's own folder stays untouched under the read-only
root and is the snapshot every reset restores from, so no ``git`` is needed
in the image and no new container is made between episodes of one image.

Why a volume at ``/workspace`` and not the image's folder made writable: a
volume mounted over the repository's own path would hide the image's copy
(Docker fills an empty volume from it once, then the snapshot is gone), and
the container's writable layer cannot be had for one path while the rest of
the root stays read-only (``read_only`` is the whole root filesystem).

Ownership of the copy: folders are root's with the sticky bit (mode 1777,
as in a small task's workspace), the repository's files the sandbox uid's,
and the protected ones (the selected tests' files, ``conftest.py`` and ini
files) root's, mode 0444: the agent's code can neither change nor replace
them. What a run changed is found by the files' change time (``find
-cnewer``, which a process cannot set back) against a stamp made at the
reset, so checking the tree before an eval reads only what changed.
"""

from __future__ import annotations

import hashlib
import io
import shlex
import tarfile
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from gym_pdb.sandbox.base import SandboxError, safe_relpath
from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.protocol import SUPPORT_DIR, WORKDIR
from gym_pdb.sandbox.docker.sandbox import DockerSandbox
from gym_pdb.sandbox.docker.transport import docker_sdk
from gym_pdb.sandbox.warm import zygote_config

STAMP = SUPPORT_DIR + "/.repo-stamp"
MAX_RESTORE_PATHS = 200  # beyond this many changed paths, a reset copies the whole repository again
DEFAULT_WORKSPACE_BYTES = 2 * 1024**3  # the tmpfs's size, where the workspace is one
#: The default ``workspace_volume``: a local volume on disk, with no driver options (no size quota).
DISK: Mapping[str, str] = MappingProxyType({})
#: Not copied into the workspace: version control (memory, and no tool reads it). The image keeps it.
COPY_EXCLUDE = (".git",)
MAX_MIRROR_BYTES = 1_000_000  # a text file larger than this is not mirrored on the host (view/grep skip it)

# Every entry of the workspace (kind and path), then the sha256 of the regular files changed since the stamp.
STATE = (
    f"cd {WORKDIR} && find . -mindepth 1 -printf '%y %P\\0' && printf '\\036\\0' && "
    f"find . -mindepth 1 -type f -cnewer {STAMP} -exec sha256sum -z -- {{}} +"
)


def checkout_script(repo: str, uid: int, protected: Sequence[str], exclude: Sequence[str] = ()) -> str:
    """The control command that lays a fresh copy of ``repo`` (but its top-level ``exclude``) into the workspace,
    owned as described above."""
    locked = " ".join(shlex.quote(f"{WORKDIR}/{p}") for p in protected)
    lock = f"{{ chown 0:0 -- {locked}; chmod 0444 -- {locked}; true; }} 2>/dev/null && " if protected else ""
    skip = " ".join(shlex.quote(f"--exclude=./{p}") for p in exclude)
    return (
        f"{protocol.scrub(uid)} && tar -C {shlex.quote(repo.rstrip('/'))} {skip} -cf - . | tar -C {WORKDIR} -xpf - && "
        f"chown -R {uid}:{uid} {WORKDIR} && find {WORKDIR} -type d -exec chown 0:0 {{}} + -exec chmod 1777 {{}} + && "
        f"{lock}touch {STAMP}"
    )


def outermost(paths: Sequence[str]) -> list[str]:
    """``paths`` without those inside another of them."""
    ordered = sorted(set(paths))
    kept: list[str] = []
    for path in ordered:
        if not any(path.startswith(k + "/") for k in kept):
            kept.append(path)
    return kept


def plan_restore(
    pristine: Mapping[str, str], entries: Mapping[str, str], changed: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """What turns the tree back into ``pristine``: the paths to remove, then those to copy again from the image."""
    want = {p: (k if k in ("dir", "link", "other") else "file") for p, k in pristine.items()}
    wrong = {p for p in set(want) | set(entries) if want.get(p) != entries.get(p)}
    wrong |= {p for p, digest in changed.items() if pristine.get(p) != digest}
    drop = outermost([p for p in wrong if p in entries])
    copy = outermost([p for p in wrong if p in want])
    return drop, copy


def restore_script(repo: str, uid: int, drop: Sequence[str], copy: Sequence[str], protected: Sequence[str]) -> str:
    """The control command that puts back only what changed (see :func:`plan_restore`), owned as a checkout owns it."""
    quoted = " ".join(shlex.quote(p) for p in copy)
    locked = " ".join(shlex.quote(f"{WORKDIR}/{p}") for p in protected)
    steps = [
        f"{protocol.as_user(uid)} sh -c 'kill -9 -1; kill -9 -1' 2>/dev/null; find /tmp -mindepth 1 -delete 2>/dev/null",
        f"cd {WORKDIR} && rm -rf -- {' '.join(shlex.quote(p) for p in drop)}" if drop else "cd /",
    ]
    if copy:
        steps.append(f"cd {shlex.quote(repo.rstrip('/'))} && cp -a --parents -- {quoted} {WORKDIR}/")
        steps.append(f"cd {WORKDIR} && chown -R {uid}:{uid} -- {quoted}")
        steps.append(f"find {quoted} -type d -exec chown 0:0 {{}} + -exec chmod 1777 {{}} +")
    if protected:
        steps.append(f"{{ chown 0:0 -- {locked}; chmod 0444 -- {locked}; true; }} 2>/dev/null")
    return steps[0] + "; " + " && ".join([*steps[1:], f"touch {STAMP}"])


def tree_from_tar(data: bytes, root: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Kinds of every entry (``dir``, ``link``, ``other`` or a file's sha256), and the files' bytes, of a tar of ``root``."""
    kinds: dict[str, str] = {}
    content: dict[str, bytes] = {}
    prefix = root.strip("/").split("/")[-1] + "/"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            if not member.name.startswith(prefix):
                continue
            rel = member.name[len(prefix) :].rstrip("/")
            if not rel:
                continue
            if member.isdir():
                kinds[rel] = "dir"
            elif member.issym() or member.islnk():
                kinds[rel] = "link"
            elif member.isfile():
                f = tar.extractfile(member)
                body = f.read() if f is not None else b""
                kinds[rel] = hashlib.sha256(body).hexdigest()
                content[rel] = body
            else:
                kinds[rel] = "other"
    return kinds, content


class RepositorySandbox(DockerSandbox):
    """A Docker sandbox on a working copy of ``repo_path`` of ``image`` (see the module's docstring).

    Its warm interpreter preloads nothing (the repository may be numpy
    itself, and pytest is the image's): it holds only the support scripts,
    so a run skips the interpreter's start and nothing more. pytest loads
    the repository's own ``conftest.py`` files and ini file
    (``GYM_PDB_CONFTEST``).

    Args:
        image: the task's image.
        repo_path: the repository's folder in it.
        workspace_volume: the driver options of the local volume the workspace is (the copy of the
            repository and what runs write): none by default, a folder under Docker's data root with no
            size quota; ``{"size": "20G"}`` where that root is on xfs mounted with ``pquota`` (Docker 23+).
            None: a tmpfs of ``workspace_bytes`` instead, counted against the container's memory limit.
        workspace_bytes: the size of that tmpfs (2 GiB by default); unused on disk.
        kwargs: as for :class:`~gym_pdb.sandbox.docker.sandbox.DockerSandbox` (``limits``, ``cpus``...).
    """

    def __init__(
        self,
        image: str,
        repo_path: str,
        workspace_bytes: int = DEFAULT_WORKSPACE_BYTES,
        workspace_volume: Mapping[str, str] | None = DISK,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("attach", None)  # a pool's containers run the sandbox image, not the task's
        super().__init__(
            image=image, workspace_bytes=workspace_bytes, workspace_volume=workspace_volume, attach=False, **kwargs
        )
        self.repo_path = repo_path
        self.info.extra["repository"] = repo_path
        #: The entries of the pristine tree (path -> kind or sha256), known after the first checkout.
        self.pristine: dict[str, str] = {}
        self.protected: list[str] = []
        #: How the last reset restored the tree: ``full`` (a new copy) or ``changes`` (only what changed).
        self.last_reset = ""

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**super()._env(extra), "GYM_PDB_CONFTEST": "1"}

    def _zygote_config(self, uid: int) -> str:
        return zygote_config(uid, [], self.info, self._env, prepared=False, preload=False)

    def checkout(self, protected: Sequence[str] = ()) -> None:
        """Stop every process of the task, and lay a fresh copy of the repository into the workspace."""
        c = self._container()
        for proc in list(self._processes):
            proc.abandon()
        self.protected = [safe_relpath(p) for p in protected]
        c.control(checkout_script(self.repo_path, c.uid, self.protected, COPY_EXCLUDE), timeout=600)
        self.last_reset = "full"

    def _restore_changes(self, protected: Sequence[str]) -> bool:
        """Put back only what changed since the last reset, where that is cheaper; False where a checkout is needed."""
        locked = [safe_relpath(p) for p in protected]
        if not self.pristine or self._c is None or sorted(locked) != sorted(self.protected):
            return False
        entries, changed = self.state(stop=True)
        drop, copy = plan_restore(self.pristine, entries, changed)
        if len(drop) + len(copy) > MAX_RESTORE_PATHS:
            return False
        c = self._container()
        c.control(restore_script(self.repo_path, c.uid, drop, copy, self.protected), timeout=600)
        self.last_reset = "changes"
        return True

    def read_tree(self) -> dict[str, bytes]:
        """The workspace's regular files (a fresh checkout's: the pristine tree); records :attr:`pristine`."""
        c = self._container()
        docker = docker_sdk()
        try:
            stream, _ = self.client.api.get_archive(c.id, WORKDIR)
            data = b"".join(stream)
        except docker.errors.APIError as exc:
            c.raise_if_dead()
            raise SandboxError(f"cannot read the repository: {exc}") from exc
        kinds, content = tree_from_tar(data, WORKDIR)
        self.pristine = kinds
        return content

    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        """The repository as the image has it; then each of ``files`` that differs from it (the rest stays the image's).

        In a container that already holds it, only what changed since the last
        reset is put back (found as an eval's check finds it); otherwise, or when
        much changed, or the protected files differ, a fresh copy. A container that
        died since the last reset is replaced (its volumes removed).
        """
        self._check_open()
        for attempt in (0, 1):
            if self._c is not None and self._c.dead:
                self._drop_container()
                self.pristine = {}
            try:
                if not self._restore_changes(readonly):
                    self.checkout(readonly)
                break
            except SandboxError:
                if attempt or self._c is None or not self._c.dead:
                    raise  # died between episodes (removed, OOM-killed): a new one, transparently
        if not self.pristine:
            self.read_tree()
        locked = set(self.protected)
        for path, content in files.items():
            rel = safe_relpath(path)
            if self.pristine.get(rel) != hashlib.sha256(bytes(content)).hexdigest():
                self.write_file(rel, bytes(content), readonly=rel in locked)

    def state(self, stop: bool = False) -> tuple[dict[str, str], dict[str, str]]:
        """Every workspace entry's kind (``dir``, ``link``, ``file``, ``other``), and the sha256 of each file changed since the reset.

        ``stop``: first kill every process of the sandbox uid (what a pdb session
        or a test left running), in the same round trip, so that nothing changes
        the tree after it is read.
        """
        c = self._container()
        if stop:
            for proc in list(self._processes):
                proc.abandon()
        out = c.control(f"{self._kill_command(c.uid)}; {STATE}" if stop else STATE)
        listing, _, sums = out.partition(b"\x1e\0")
        kinds = {"d": "dir", "l": "link", "f": "file"}
        entries: dict[str, str] = {}
        for item in filter(None, listing.split(b"\0")):
            kind, _, path = item.decode("utf-8", "surrogateescape").partition(" ")
            entries[path] = kinds.get(kind, "other")
        changed: dict[str, str] = {}
        for item in filter(None, sums.split(b"\0")):
            digest, _, path = item.decode("utf-8", "surrogateescape").partition("  ")
            changed[path.removeprefix("./")] = digest
        return entries, changed

    @staticmethod
    def _kill_command(uid: int) -> str:
        return f"{protocol.as_user(uid)} sh -c 'kill -9 -1; kill -9 -1' 2>/dev/null"

    def copy_in(self, source: str, dest: str) -> None:
        """Copy the image's folder ``source`` into the workspace as ``dest``: root's, read-only (hidden tests)."""
        target = shlex.quote(f"{WORKDIR}/{safe_relpath(dest)}")
        self._container().control(
            f"rm -rf {target} && cp -a {shlex.quote(source.rstrip('/'))} {target} && chown -R 0:0 {target} && "
            f"find {target} -type d -exec chmod 1777 {{}} + && find {target} -type f -exec chmod 0444 {{}} +"
        )
