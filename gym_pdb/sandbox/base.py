"""The sandbox protocol: where a task's code runs.

A sandbox owns one workspace (the task's files) and runs commands in it, either
to completion (:meth:`Sandbox.run`) or as a long-lived interactive process
(:meth:`Sandbox.spawn`, used by the pdb session). Backends: ``local`` (the
embedded default) and ``docker``.

Paths given to a sandbox are relative to the workspace; the sandbox refuses any
path that would leave it.
"""

from __future__ import annotations

import abc
import posixpath
from dataclasses import dataclass, field
from typing import Mapping, Sequence


class SandboxError(RuntimeError):
    """The sandbox could not do what was asked (it is broken or misused)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to every process started in a sandbox."""

    cpu_seconds: int = 120
    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 64 * 1024**2
    processes: int = 128
    open_files: int = 512
    output_bytes: int = 1024**2
    network: bool = False


@dataclass
class ExecResult:
    """What a finished command left: exit code, merged output, and why it ended."""

    exit_code: int | None
    output: bytes
    timed_out: bool = False
    truncated: bool = False
    elapsed: float = 0.0
    records: bytes = b""  # what the process wrote to its record channel (``run(..., records_key=...)``)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


class InteractiveProcess(abc.ABC):
    """A running process with stdin and merged stdout/stderr, read to a marker."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Send bytes to the process' stdin."""

    @abc.abstractmethod
    def read_until(self, marker: bytes, timeout: float, limit: int) -> tuple[bytes, bool]:
        """Read output until it ends with ``marker``.

        Returns ``(data, found)``. ``data`` holds everything read (without the
        marker when found). At most ``limit`` bytes are kept: the rest of a huge
        output is read and dropped, keeping the head and the tail. ``found`` is
        False when the process closed its output or ``timeout`` passed first; in
        that case the caller decides what to do with the process.
        """

    @abc.abstractmethod
    def alive(self) -> bool:
        """Whether the process is still running."""

    @abc.abstractmethod
    def interrupt(self) -> None:
        """Ask the process to dump its Python stack (SIGUSR1), without stopping it."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Stop the process and everything it started. Idempotent."""

    @property
    @abc.abstractmethod
    def exit_code(self) -> int | None:
        """The exit code once the process has ended, else None."""


@dataclass
class SandboxInfo:
    """Where things are inside the sandbox, as its processes see them."""

    workdir: str
    support_dir: str
    python: str
    extra: dict = field(default_factory=dict)


class Sandbox(abc.ABC):
    """A place to lay files and run commands, with limits and no leaks."""

    limits: Limits
    info: SandboxInfo
    #: Whether ``python SCRIPT``/``python -m MODULE`` fork an interpreter that is
    #: already warm (pytest and pdb imported) instead of starting one.
    forks_python: bool = False

    @abc.abstractmethod
    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        """Empty the workspace, then lay ``files`` into it; ``readonly`` ones can't be written."""

    @abc.abstractmethod
    def write_file(self, path: str, content: bytes, readonly: bool = False) -> None:
        """Write one workspace file (creating folders); ``readonly``: as ``reset_workspace`` lays read-only ones."""

    @abc.abstractmethod
    def read_file(self, path: str) -> bytes:
        """Read one workspace file."""

    def remove_file(self, path: str) -> None:
        """Remove one workspace file if it exists (backends may do this faster)."""
        self.run(["rm", "-f", "--", safe_relpath(path)], timeout=10)

    @abc.abstractmethod
    def workspace_digest(self) -> dict[str, str]:
        """Every entry of the workspace: relative path -> the file's sha256 hex, or ``dir``, ``link``, ``other``."""

    @abc.abstractmethod
    def remove_paths(self, paths: Sequence[str]) -> None:
        """Remove these workspace entries (folders with what they hold), whoever made them."""

    @abc.abstractmethod
    def run(
        self,
        argv: Sequence[str],
        timeout: float,
        env: Mapping[str, str] | None = None,
        output_limit: int | None = None,
        records_key: bytes | None = None,
    ) -> ExecResult:
        """Run a command in the workspace to completion (or to ``timeout``, then kill it).

        With ``records_key``, the process also gets a record channel (see
        ``support/records.py``): a socket named by ``GYM_PDB_RECORDS_FD`` in its
        environment, into which the key has been written, and whatever the
        process writes there comes back in ``ExecResult.records``. Only a process
        that never runs task code carries it (the host, or the root warm
        interpreter in a container), so nothing of the workspace can write
        into the result but through that socket.
        """

    @abc.abstractmethod
    def spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> InteractiveProcess:
        """Start an interactive process in the workspace."""

    def wait_warm(self, timeout: float) -> bool:
        """Wait until python commands fork a warm interpreter; False if there is none by ``timeout``.

        Runs never wait for it: until it is up they start a fresh interpreter.
        """
        return False

    @abc.abstractmethod
    def close(self) -> None:
        """Stop every process and remove every resource of the sandbox. Idempotent."""

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sandbox_env(path: str, home: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a sandboxed process: nothing of the host's leaks in."""
    env = {
        "PATH": path,
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    if extra:
        env.update(extra)
    return env


def safe_relpath(path: str) -> str:
    """Normalise a workspace-relative path; raise ValueError if it leaves the workspace."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError("path must be a non-empty string")
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    if path.startswith("/"):
        raise ValueError(f"{path!r}: absolute paths are outside the workspace; use a path relative to it")
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../") or "\x00" in norm:
        raise ValueError(f"{path!r} is outside the workspace")
    return norm


class BoundedBuffer:
    """Collects output up to a size budget, keeping the head and the tail."""

    def __init__(self, limit: int):
        self.limit = max(1024, limit)
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.limit // 2 - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        keep = self.limit - self.limit // 2
        if len(self.tail) > keep:
            self.dropped += len(self.tail) - keep
            del self.tail[: len(self.tail) - keep]

    def endswith(self, marker: bytes) -> bool:
        if self.tail:
            if len(self.tail) >= len(marker):
                return self.tail.endswith(marker)
            return (bytes(self.head) + bytes(self.tail)).endswith(marker)
        return self.head.endswith(marker)

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def getvalue(self, strip_marker: bytes = b"") -> bytes:
        data = bytes(self.head)
        if self.dropped:
            data += f"\n... [{self.dropped} bytes of output cut] ...\n".encode()
        data += bytes(self.tail)
        if strip_marker and data.endswith(strip_marker):
            data = data[: -len(strip_marker)]
        return data
