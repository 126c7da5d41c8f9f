"""An interactive process in a sandbox container (the pdb session), read over its exec socket."""

from __future__ import annotations

from collections.abc import Callable

from gym_pdb.sandbox.base import InteractiveProcess, SandboxError
from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.container import Container
from gym_pdb.sandbox.docker.transport import ExecStream, read_to_marker


class DockerProcess(InteractiveProcess):
    """A process in the sandbox container, read over its exec socket.

    Args:
        stream: the stream of the exec that runs it (its pid already reported).
        container: where it runs; signals go through its control shell.
        on_end: called once the process is killed or abandoned (the sandbox forgets it).
    """

    def __init__(
        self, stream: ExecStream, container: Container, on_end: Callable[[DockerProcess], None] | None = None
    ) -> None:
        self._stream = stream
        self._container = container
        self._on_end = on_end
        self._killed = False

    @property
    def pid(self) -> int | None:
        """The process' pid inside the container."""
        return self._stream.pid

    def write(self, data: bytes) -> None:
        if self._killed or self._stream.eof:
            raise SandboxError("the process has exited and takes no more input")
        try:
            self._stream.send(data)
        except OSError as exc:
            raise SandboxError("the process has exited and takes no more input") from exc

    def read_until(self, marker: bytes, timeout: float, limit: int) -> tuple[bytes, bool]:
        stream = self._stream
        data, found = read_to_marker(stream, marker, timeout, limit, stop=self._was_killed)
        if not found and stream.eof and stream.rc is None and not self._killed:
            self._container.raise_if_dead()
        return data, found

    def _was_killed(self) -> bool:
        return self._killed

    def alive(self) -> bool:
        if self._killed:
            return False
        for _ in range(64):  # take in what is already there (bounded: output may never stop)
            if self._stream.eof or not self._stream.pump(0):
                break
        return not self._stream.eof and self._stream.rc is None

    def interrupt(self) -> None:
        if self.alive() and self.pid is not None:
            self._container.interrupt(self.pid)

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        if self.pid is not None and self._stream.rc is None and not self._container.dead:
            try:
                self._container.kill_group(self.pid)
            except SandboxError:
                pass
        self._end()

    def abandon(self) -> None:
        """Let go of the process without signalling it: its container is about to kill it or is gone."""
        self._killed = True
        self._end()

    def _end(self) -> None:
        self._stream.close()
        if self._on_end is not None:
            self._on_end(self)

    @property
    def exit_code(self) -> int | None:
        if self._stream.rc is not None:
            return protocol.exit_code(self._stream.rc)
        if self._killed or self._stream.eof:
            return -9
        return None
