"""One sandbox container as the backend reaches it: execs, the root control shell, uploads.

:class:`Container` is the record a sandbox keeps of its container and the
control object its processes are given. It is shared with the sandbox's
finalizer (never the sandbox itself), so it holds all that releasing the
container needs.
"""

from __future__ import annotations

import base64
import gzip
import io
import secrets
import tarfile
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gym_pdb.sandbox.base import ExecResult, SandboxError
from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.protocol import WORKDIR
from gym_pdb.sandbox.docker.transport import ExecStream, docker_sdk, open_exec_socket, read_reply

if TYPE_CHECKING:
    from gym_pdb.sandbox.docker.warm import WarmInterpreter

TarEntry = tuple[str, bytes | None, int, int]  # name, content (None: a folder), mode, uid


def make_tar(entries: Sequence[TarEntry]) -> bytes:
    """A tar of ``(name, content or None for a folder, mode, uid)`` entries (gid = uid)."""
    out = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, content, mode, uid in entries:
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = mode, uid, uid, now
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def parents(path: str) -> list[str]:
    """The folders above a relative path, outermost first."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class Container:
    """A sandbox container: what is known of it and how to reach it.

    Args:
        client: the ``docker.DockerClient`` that reaches it.
        cid: its id.
        name: its name.
        uid: the unprivileged uid that runs task code in it.
        attached: claimed from a pool (released at the end, not removed).
        archive: the folders the archive API reaches (volume or bind mounts).
    """

    def __init__(self, client: Any, cid: str, name: str, uid: int, attached: bool, archive: Sequence[str] = ()) -> None:
        self.client = client
        self.id = cid
        self.name = name
        self.uid = uid
        self.attached = attached
        self.archive = set(archive)
        self.dead: str | None = None  # why it is unusable
        self.volumes: list[str] = []  # its workspace volumes (removed with it, even if it was removed from outside)
        self.admin: ExecStream | None = None  # the root control shell
        self.warm: WarmInterpreter | None = None
        self.lock = threading.RLock()

    def exec(
        self,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bool = False,
        keep_stderr: bool = True,
    ) -> ExecStream:
        """Start ``argv`` in the workspace, as ``user`` (default: the sandbox uid), and return its stream.

        Raises:
            SandboxError: the container is gone or stopped (then ``dead`` says
                why), or Docker refused.
        """
        docker = docker_sdk()
        api = self.client.api
        try:
            exec_id = api.exec_create(
                self.id,
                list(argv),
                stdin=stdin,
                user=user or f"{self.uid}:{self.uid}",
                environment=dict(env) if env else None,
                workdir=WORKDIR,
            )["Id"]
            return open_exec_socket(api, exec_id, keep_stderr=keep_stderr)
        except docker.errors.NotFound as exc:
            self.mark_dead()
            raise SandboxError(self.dead) from exc
        except docker.errors.APIError as exc:
            if exc.status_code == 409 or "not running" in str(exc):
                self.mark_dead()
                raise SandboxError(self.dead) from exc
            raise SandboxError(f"docker exec failed: {exc}") from exc
        except OSError as exc:
            raise SandboxError(f"cannot talk to the Docker daemon: {exc}") from exc

    def collect(self, argv: Sequence[str], stdin_data: bytes | None = None, user: str | None = None) -> ExecResult:
        """Run a short command to its end (two minutes at most), with ``stdin_data`` on its stdin if given.

        Returns:
            Its exit code (None if it did not report one) and merged output.
        """
        start = time.monotonic()
        stream = self.exec(protocol.collected(argv), user=user, stdin=stdin_data is not None)
        try:
            if stdin_data is not None:
                stream.send(stdin_data)
                stream.shutdown_write()
            stream.drain(start + 120)
            output = stream.take()
        finally:
            stream.close()
        return ExecResult(exit_code=stream.rc, output=output, elapsed=time.monotonic() - start)

    def _admin(self) -> ExecStream:
        if self.admin is None or self.admin.eof or self.admin.closed:
            if self.admin is not None:
                self.admin.close()
            self.admin = self.exec(["sh", "-c", protocol.ADMIN_SHELL], user="0:0", stdin=True)
        return self.admin

    def control(self, command: str, check: bool = True, timeout: float = 60) -> bytes:
        """Run a one-line shell command as root over the persistent control shell: a round trip, not an exec.

        Returns:
            Its merged output.

        Raises:
            SandboxError: it failed (with ``check``), timed out, or the shell or the container died.
        """
        with self.lock:
            admin = self._admin()
            token = secrets.token_hex(8)
            admin.send(protocol.control_line(command, token))
            try:
                out, status = read_reply(admin, protocol.done_marker(token), timeout)
            except EOFError:
                admin.close()
                self.raise_if_dead()
                raise SandboxError("the sandbox's control shell ended unexpectedly") from None
            except TimeoutError:
                admin.close()
                raise SandboxError(f"sandbox control command timed out: {command[:80]}") from None
            rc = int(status or 0)
            if check and rc != 0:
                raise SandboxError(f"sandbox control command failed ({rc}): {out.decode(errors='replace')}")
            return out

    def kill_group(self, pid: int) -> None:
        """Kill a process of the sandbox and its process group."""
        self.control(protocol.kill_group(pid), check=False)

    def interrupt(self, pid: int) -> None:
        """Send a process of the sandbox SIGUSR1 (pdb's driver then prints its stack)."""
        self.control(protocol.interrupt(pid), check=False)

    def scrub(self, kill_all: bool = False) -> None:
        """Kill the sandbox uid's processes (every non-root one with ``kill_all``); empty the workspace and /tmp."""
        self.control(protocol.scrub(self.uid, kill_all))

    def upload(self, dest: str, data: bytes, clear: bool) -> None:
        """Extract the tar ``data`` into the folder ``dest``, after a :meth:`scrub` with ``clear``.

        A small one with ``clear`` goes through the control shell (the folder was just emptied and
        no process of the sandbox is left to plant a link in it).

        Raises:
            SandboxError: the upload failed or the container died.
        """
        if clear:
            packed = base64.b64encode(gzip.compress(data, compresslevel=1)).decode()
            if len(packed) <= protocol.CONTROL_WRITE_MAX:
                self.control(protocol.extract_inline(dest, packed, protocol.scrub(self.uid)))
                return
        if dest in self.archive:
            if clear:
                self.scrub()
            docker = docker_sdk()
            try:
                ok = self.client.api.put_archive(self.id, dest, data)
            except docker.errors.APIError as exc:  # NotFound among them
                self.mark_dead()
                raise SandboxError(self.dead or f"cannot upload to {dest}: {exc}") from exc
            if not ok:
                raise SandboxError(f"cannot upload files to {dest}")
            return
        # A plain tmpfs mount: extract inside the container.
        scrub_first = protocol.scrub(self.uid) if clear else ""
        got = self.collect(protocol.extract(dest, scrub_first), stdin_data=data, user="0:0")
        if got.exit_code != 0:
            self.raise_if_dead()
            raise SandboxError(f"cannot upload files to {dest}: {got.text.strip()}")

    def mark_dead(self) -> None:
        """Ask dockerd whether the container still runs; if not, set ``dead`` to why."""
        if self.dead:
            return
        why = "was removed"
        try:
            attrs = self.client.api.inspect_container(self.id)
            state = attrs.get("State", {})
            if state.get("Running"):
                return
            bits = [f"status {state.get('Status')}", f"exit code {state.get('ExitCode')}"]
            if state.get("OOMKilled"):
                bits.insert(0, "killed for lack of memory (OOM)")
            if state.get("Error"):
                bits.append(state["Error"])
            why = "stopped: " + ", ".join(bits)
        except Exception:  # noqa: BLE001 - the daemon may be gone too
            pass
        self.dead = (
            f"the sandbox container {self.name} {why}; the next reset_workspace starts a new one "
            "(the current episode cannot go on)"
        )
        if self.admin is not None:
            self.admin.close()

    def raise_if_dead(self) -> None:
        """After a stream ended without its exit status: raise if that was because the container died.

        Raises:
            SandboxError: it died.
        """
        self.mark_dead()
        if self.dead:
            raise SandboxError(self.dead)
