"""The local sandbox's workspace, seen from the host: its files written, read and digested without following links.

The program may plant links and swap files under the host, so every write goes
to a fresh file moved into place, and reads and digests refuse links. When the
sandbox has a uid, root owns the workspace and the read-only files in it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from typing import Sequence

from gym_pdb.sandbox.base import SandboxError, safe_relpath

READ_CHUNK = 65536


def sha256(path: str) -> str:
    """The file's digest; O_NONBLOCK, so that a FIFO the program left in its place cannot hang the host."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def empty(folder: str) -> None:
    """Remove what ``folder`` holds, keeping the folder."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


class LocalWorkspace:
    """The file methods of ``LocalSandbox``: the workspace and scratch dir it keeps under its folder."""

    workdir: str
    tmpdir: str
    uid: int | None
    _closed: bool = False

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def _make_private_dirs(self) -> None:
        """The workspace and scratch dir, kept across resets: a process's bind mount holds on to the folder."""
        for path, mode in ((self.workdir, 0o755), (self.tmpdir, 0o700)):
            if not os.path.isdir(path) or os.path.islink(path):
                if os.path.lexists(path):
                    os.unlink(path)
                os.mkdir(path, mode)
            os.chmod(path, mode)
        if self.uid is not None:
            # Root owns the workspace, sticky and group-writable: the sandbox uid
            # creates files in it, but cannot remove or replace root's (the tests).
            os.chown(self.workdir, 0, self.uid)
            os.chmod(self.workdir, 0o1775)
            os.chown(self.tmpdir, self.uid, self.uid)

    def _host_path(self, path: str) -> str:
        return os.path.join(self.workdir, safe_relpath(path))

    def write_file(self, path: str, content: bytes, readonly: bool = False) -> None:
        self._check_open()
        self._write(path, content, readonly=readonly)

    def workspace_digest(self) -> dict[str, str]:
        self._check_open()
        found: dict[str, str] = {}
        folders = [""]
        while folders:
            rel = folders.pop()
            with os.scandir(os.path.join(self.workdir, rel)) as entries:
                for entry in entries:
                    path = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_symlink():
                        found[path] = "link"
                    elif entry.is_dir():
                        found[path] = "dir"
                        folders.append(path)
                    elif entry.is_file():
                        found[path] = sha256(entry.path)
                    else:
                        found[path] = "other"
        return found

    def remove_paths(self, paths: Sequence[str]) -> None:
        self._check_open()
        for path in paths:
            host = self._host_path(path)
            if os.path.isdir(host) and not os.path.islink(host):
                shutil.rmtree(host, ignore_errors=True)
            else:
                try:
                    os.unlink(host)
                except FileNotFoundError:
                    pass

    def _write(self, path: str, content: bytes, readonly: bool) -> None:
        host = self._host_path(path)
        parent = os.path.dirname(host)
        if not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
            if self.uid is not None:
                d = parent
                while d != self.workdir:
                    os.chown(d, self.uid, self.uid)
                    d = os.path.dirname(d)
        if os.path.lexists(host) and (os.path.islink(host) or not os.path.isfile(host)):
            if os.path.isdir(host) and not os.path.islink(host):
                shutil.rmtree(host)
            else:
                os.unlink(host)
        # Write to a fresh file: never follow a link the program may have planted.
        tmp = host + f".gym-pdb-{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        if self.uid is not None and not readonly:
            os.chown(tmp, self.uid, self.uid)
        os.chmod(tmp, 0o444 if readonly else 0o644)
        os.replace(tmp, host)

    def read_file(self, path: str) -> bytes:
        self._check_open()
        host = self._host_path(path)
        fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            return f.read()

    def remove_file(self, path: str) -> None:
        self._check_open()
        try:
            os.unlink(self._host_path(path))
        except FileNotFoundError:
            pass
