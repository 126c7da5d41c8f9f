"""The warm interpreter of a container (``support/zygote.py``) and how a run reaches it.

Starting Python and importing pytest costs more than most test runs. The
zygote, a root process started once per container, has done both, and forks
each ``python SCRIPT`` or ``python -m MODULE`` as the sandbox uid. A run to
completion is a request line on the zygote's own exec, its output and end come
back as frames on that exec's stdout (:class:`StreamedRun`), so it costs no
exec of its own (~40-70 ms of dockerd and runc). A program that needs a stdin
(pdb's session) is a connector exec that hands the zygote a request through
its FIFO (root only); the zygote forks it onto the connector's streams (see
``protocol.CONNECTOR``). The frames and the FIFO's lines: ``support/channels.py``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gym_pdb.sandbox.base import BoundedBuffer, SandboxError
from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.container import Container
from gym_pdb.sandbox.docker.protocol import SUPPORT_DIR, WARM_FIFO, WORKDIR
from gym_pdb.sandbox.docker.transport import ExecStream
from gym_pdb.sandbox.warm import forkable

#: The longest a frame's header line may be (``KIND ID N``).
MAX_HEADER = 64
#: The longest a thread reads the stream at a time while others may wait for it (``close``).
READ_SLICE = 0.25


def forkable_run(argv: Sequence[str], env: Mapping[str, str], python: str, zygote_env: Mapping[str, str]) -> bool:
    """Whether ``argv`` with ``env`` is a python run that a zygote started with ``zygote_env`` can fork."""
    return argv[0] in (python, "python", "python3") and forkable(argv[1:], env, zygote_env)


def request_line(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """The JSON request that asks a zygote to run ``python ARGV[1:]`` in the workspace with ``env``."""
    return json.dumps({"argv": list(argv[1:]), "env": dict(env), "cwd": WORKDIR})


def zygote_argv(python: str, config: str, once: bool = False) -> list[str]:
    """The command of a zygote that serves the request FIFO, or (``once``) one request read from stdin.

    A one-off zygote relays the record channel of a run that a warm one cannot take.
    """
    mode = ["--once"] if once else ["--fifo", WARM_FIFO]
    return [python, f"{SUPPORT_DIR}/zygote.py", *mode, config]


@dataclass(eq=False)
class StreamedRun:
    """A run the zygote started for a request on its stream: what its frames have said so far."""

    id: int
    output: BoundedBuffer
    pid: int | None = None
    code: int | None = None  # the exit code (negative for a signal), once it has ended
    records: bytearray = field(default_factory=bytearray)
    ended: bool = False  # its exit frame came, or the zygote's stream ended first (no code)


class WarmInterpreter:
    """The zygote of one container: started by a root exec, restarted when it dies.

    Args:
        container: where it runs.
        python: the interpreter in the image.
        config: its CONFIG_JSON (``gym_pdb.sandbox.warm.zygote_config``).
        env: its environment, that of the sandbox's processes.
    """

    def __init__(self, container: Container, python: str, config: str, env: Mapping[str, str]) -> None:
        self.container = container
        self.python = python
        self.env = dict(env)
        self._argv = zygote_argv(python, config)
        self.stream: ExecStream | None = None
        self._ready = False
        # Runs start and wait from several threads (the swe-pdb profile's eval runs two side by side).
        # One thread at a time reads the stream (its poller serves one caller), and hands out every
        # run's frames; the others wait for news on ``_changed``.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._reading = False
        self._runs: dict[int, StreamedRun] = {}
        self._ids = itertools.count(1)
        self.start()

    def start(self) -> None:
        """Start the zygote; it is ready once it says so (:meth:`ready`). A failure leaves runs cold."""
        with self._lock:
            self._restart()

    def _restart(self) -> None:
        self._drop_stream()
        try:
            self.stream = self.container.exec(self._argv, user="0:0", env=self.env, stdin=True, keep_stderr=False)
        except SandboxError:
            self.stream = None

    def _drop_stream(self) -> None:
        """Close the zygote's exec (it exits); the runs in flight end without an exit code."""
        while self._reading:
            self._changed.wait()
        if self.stream is not None:
            self.stream.close()
        self.stream = None
        self._ready = False
        for run in self._runs.values():
            run.ended = True
        self._runs.clear()
        self._changed.notify_all()

    def _take_in(self, timeout: float) -> None:
        """Read what the zygote sends within ``timeout`` and hand it out; called and returns with the lock held.

        While another thread reads, wait for its news instead. A zygote that died is restarted.
        """
        stream = self.stream
        if self._reading:
            self._changed.wait(timeout)
            return
        if stream is None:
            return
        self._reading = True
        self._lock.release()
        try:
            if stream.pump(timeout):
                for _ in range(63):  # what else is there already (bounded: output may never stop)
                    if stream.eof or not stream.pump(0):
                        break
        finally:
            self._lock.acquire()
            self._reading = False
            self._changed.notify_all()
        if not self._hand_out(stream) or stream.eof:
            self._restart()

    def _hand_out(self, stream: ExecStream) -> bool:
        """Give the complete frames in ``stream.pending`` to their runs; False if the stream holds no frames."""
        buf = stream.pending
        while buf:
            end = buf.find(b"\n", 0, MAX_HEADER)
            if end < 0:
                return len(buf) < MAX_HEADER
            try:
                kind, number, value = bytes(buf[:end]).decode().split(" ")
                run_id, n = int(number), int(value)
            except ValueError:
                return False
            size = end + 1 + (n if kind in ("out", "rec") else 0)
            if len(buf) < size:
                return True
            payload = bytes(buf[end + 1 : size])
            del buf[:size]
            run = self._runs.get(run_id)
            if kind == "ready":
                self._ready = True
            elif run is None:
                continue
            elif kind == "out":
                run.output.add(payload)
            elif kind == "rec":
                run.records += payload
            elif kind == "pid":
                run.pid = n
            elif kind == "exit":
                run.code, run.ended = n, True
                del self._runs[run_id]
        return True

    def ready(self) -> bool:
        """Whether the zygote is up, without waiting; one that died is restarted for later runs."""
        with self._lock:
            if not self._reading:
                self._take_in(0)
            return self._ready

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for :meth:`ready`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._ready:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stream is None:
                    return False
                self._take_in(min(remaining, READ_SLICE))
            return True

    def request(self, argv: Sequence[str], env: Mapping[str, str]) -> str | None:
        """The FIFO request that runs ``argv`` with the whole environment ``env`` here, if the zygote is up and can."""
        if not forkable_run(argv, env, self.python, self.env):
            return None
        line = request_line(argv, env)
        if len(line) > protocol.MAX_WARM_REQUEST or not self.ready():
            return None
        return line

    def start_run(
        self, argv: Sequence[str], env: Mapping[str, str], output_limit: int, records_key: bytes | None = None
    ) -> StreamedRun | None:
        """Have the zygote start ``argv`` with the whole environment ``env``, stdin empty; None if it is not up or cannot.

        ``records_key``: give the run a record channel with this key.
        """
        if not forkable_run(argv, env, self.python, self.env):
            return None
        with self._lock:
            if not self._reading:
                self._take_in(0)
            if self.stream is None or not self._ready:
                return None
            run = StreamedRun(next(self._ids), BoundedBuffer(output_limit))
            message = {"run": run.id, "argv": list(argv[1:]), "env": dict(env), "cwd": WORKDIR}
            if records_key is not None:
                message["key"] = records_key.hex()
            self._runs[run.id] = run
            try:
                self.stream.send(json.dumps(message).encode() + b"\n")
            except OSError:
                del self._runs[run.id]
                return None
            return run

    def wait_run(self, run: StreamedRun, deadline: float) -> bool:
        """Wait until ``run`` has ended or ``deadline`` (``time.monotonic()``) passed; whether it ended."""
        with self._lock:
            while not run.ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if self.stream is None:
                    run.ended = True
                    break
                self._take_in(min(remaining, READ_SLICE))
            return True

    def forget(self, run: StreamedRun) -> None:
        """Drop ``run``'s frames from now on (it was waited for, or given up)."""
        with self._lock:
            self._runs.pop(run.id, None)

    def close(self) -> None:
        """Close its exec: its stdin ends and the zygote exits."""
        with self._lock:
            self._drop_stream()
