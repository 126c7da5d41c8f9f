"""The local sandbox's processes: reading their output without sleeping, and killing their group."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import time
from typing import Callable, Union

from gym_pdb.sandbox.base import BoundedBuffer, InteractiveProcess, SandboxError
from gym_pdb.sandbox.bwrap import BwrapChild
from gym_pdb.sandbox.warm import ForkedChild

READ_CHUNK = 65536

#: What a sandboxed process is to the host: a plain child, one under bwrap, or a fork of the warm interpreter.
Child = Union["subprocess.Popen[bytes]", BwrapChild, ForkedChild]


def read_available(stream: int | socket.socket) -> bytes | None:
    """What a non-blocking stream has now: b"" at its end, None when nothing is there yet."""
    try:
        return stream.recv(READ_CHUNK) if isinstance(stream, socket.socket) else os.read(stream, READ_CHUNK)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def read_until(fd: int, selector: selectors.BaseSelector, marker: bytes, timeout: float, limit: int) -> tuple[bytes, bool | None]:
    """Read the non-blocking ``fd`` until its output ends with ``marker``; found is None at EOF."""
    buf = BoundedBuffer(limit)
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return buf.getvalue(), False
            selector.select(remaining)
            continue
        except OSError:
            chunk = b""
        if not chunk:
            return buf.getvalue(), None
        buf.add(chunk)
        if buf.endswith(marker):
            return buf.getvalue(strip_marker=marker), True


class LocalProcess(InteractiveProcess):
    """A sandboxed process with pipes, read with select (never by sleeping).

    ``child`` is a ``subprocess.Popen``, a :class:`BwrapChild` or a
    :class:`ForkedChild` of the warm interpreter; it leads its own session, so
    killing its group kills what it started.
    """

    def __init__(self, child: Child, stdin: int, stdout: int, on_kill: Callable[[LocalProcess], object] | None = None):
        self._child = child
        self._stdin, self._fd = stdin, stdout
        os.set_blocking(stdout, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._eof = False
        self._on_kill = on_kill

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._stdin, view) :]
        except OSError as exc:
            raise SandboxError("the process has exited and takes no more input") from exc

    def read_until(self, marker: bytes, timeout: float, limit: int) -> tuple[bytes, bool]:
        if self._eof:
            return b"", False
        data, found = read_until(self._fd, self._selector, marker, timeout, limit)
        self._eof = found is None
        return data, bool(found)

    def alive(self) -> bool:
        if self._eof and self._child.returncode is None:
            # Output closes just before the process is gone: give it a moment.
            try:
                self._child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        return self._child.poll() is None

    def interrupt(self) -> None:
        if self.alive():
            self._child.send_signal(signal.SIGUSR1)

    def kill(self) -> None:
        kill_group(self._child.pid)
        self._child.kill()
        for fd in (self._stdin, self._fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stdin = self._fd = -1
        try:
            self._selector.close()
        except (OSError, ValueError):
            pass
        self._child.wait()
        if self._on_kill is not None:
            self._on_kill(self)
            self._on_kill = None

    @property
    def exit_code(self) -> int | None:
        return self._child.poll()


def kill_group(pid: int | None) -> None:
    """SIGKILL the process group ``pid`` leads (None: a forked child that ended before it was seen)."""
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
