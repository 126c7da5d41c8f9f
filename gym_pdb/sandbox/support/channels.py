"""How requests reach the zygote (``forkserver.py``), and how it answers.

A request is ``{"argv": [SCRIPT | "-m", MODULE, ARG...], "env": {...}, "cwd": DIR}``,
with ``"records": true`` for a run that has a record channel (``records.py``):
the child gets it as a descriptor named by ``GYM_PDB_RECORDS_FD``.

- ``HostSocket`` (local sandbox, SOCK_SEQPACKET): the request comes with the
  child's stdout (then its record channel, if any, then its stdin, if any) as
  file descriptors; the reply is ``{"pid": N}`` with a pidfd of the child (the
  host's pids are not N under bwrap), and when the child ends
  ``{"exit": N, "code": C}`` (C negative for a signal, as with subprocess).
  ``{"kill_all": true}`` kills every process of the sandbox's uid (reply
  ``{"killed": true}``). The zygote exits when the socket closes. The prepared
  eval process answers the zygote with the same messages.
- ``RequestFifo`` (docker), two ways in:

  - one line ``REQUEST`` with ``"run": ID`` (and ``"key": HEX`` for a record
    channel with that key) on this process's stdin, written by the host over
    the zygote's own exec. The child's stdout and stderr are a pipe, its stdin
    is empty, and the reply comes on this process's stdout as *frames*: a line
    ``KIND ID N`` then, for ``out`` and ``rec``, N bytes (the child's output, or
    what it wrote to its record channel); ``pid ID PID``; ``exit ID CODE``
    once the child has ended and all its output has been sent (CODE negative
    for a signal). The first frame is ``ready 0 PID``, once the zygote is warm. Only
    this process writes its stdout, so task code cannot forge a frame. A run
    this way costs no exec (~40-70 ms of dockerd and runc).
  - one line ``CONNECTOR_PID REQUEST`` through a FIFO, written by a connector
    process (a ``docker exec``, with copies of its stdin, stdout and stderr on
    fds 5, 6, 7), for a program that needs a stdin (pdb's session): the child
    gets the connector's stdin and stdout, and the connector's stderr gets the
    lines ``\\x1egym-pdb pid N`` and, when the child ends, ``\\x1egym-pdb rc
    C`` (128+N for signal N, as from sh); then the connector is killed, which
    ends the exec.

  The zygote exits when its stdin closes.
- ``OneRequest`` (``--once``, docker without a warm interpreter): one request
  read from stdin, run on this process's own streams, reporting as a
  connector's; with a key, what the child writes to its record channel comes as
  lines ``\\x1egym-pdb rec BASE64`` on stderr, before the ``rc`` line.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
from typing import Any, Callable, Protocol, Sequence

from forkserver import Request, Zygote
from pyrun import write

MAX_FDS = 4
MAX_MESSAGE = 1 << 20
CONNECTOR_STREAMS = ((5, os.O_RDONLY), (6, os.O_WRONLY), (7, os.O_WRONLY))  # its stdin, stdout, stderr


class HostSocket:
    """Requests from the local sandbox's host, over a SOCK_SEQPACKET socket with file descriptors."""

    def __init__(self, fd: int):
        self.sock = socket.socket(fileno=fd)
        self.fds = [self.sock.fileno()]

    def send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        try:
            if fds:
                socket.send_fds(self.sock, [json.dumps(message).encode()], fds)
            else:
                self.sock.send(json.dumps(message).encode())
        except OSError:
            pass

    def readable(self, zygote: Zygote, fd: int) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, MAX_FDS)
        except OSError:
            return False
        if not data:
            return False
        try:
            request = json.loads(data)
            if request.get("kill_all"):
                self.send({"killed": zygote.kill_all()})
                return True
            if not fds:
                raise ValueError("a request without its streams")
            pid = zygote.start(request, fds, lambda pid, code: self.send({"exit": pid, "code": code}))
        except (ValueError, LookupError, OSError) as exc:
            for fd in fds:
                os.close(fd)
            self.send({"error": str(exc)})
            return True
        try:
            pidfd = [os.pidfd_open(pid)]
        except OSError:  # ended already (a run of the prepared eval, reaped there)
            pidfd = []
        self.send({"pid": pid}, pidfd)
        for fd in pidfd:
            os.close(fd)
        return True


class Reports(Protocol):
    """Where the zygote reports a run it started: see the module's docstring."""

    def pid(self, pid: int) -> None: ...

    def records(self, data: bytes) -> None: ...

    def failed(self, why: str) -> None: ...

    def ended(self, code: int) -> None: ...


class ControlLines:
    """A connector's reports: lines on its stderr (``control``); ``on_end`` once the run is over."""

    def __init__(self, control: int, on_end: Callable[[], None] = lambda: None):
        self.control = control
        self.on_end = on_end

    def pid(self, pid: int) -> None:
        write(self.control, "\x1egym-pdb pid %d\n" % pid)

    def records(self, data: bytes) -> None:
        write(self.control, "\x1egym-pdb rec %s\n" % base64.b64encode(data).decode())

    def failed(self, why: str) -> None:
        write(self.control, "gym-pdb: could not start the program: %s\n" % why)

    def ended(self, code: int) -> None:
        write(self.control, "\x1egym-pdb rc %d\n" % (code if code >= 0 else 128 - code))
        os.close(self.control)
        self.on_end()


def frame(kind: str, run: int, value: int, payload: bytes = b"") -> bytes:
    return b"%s %d %d\n%s" % (kind.encode(), run, value, payload)


class Frames:
    """A run that came on the host's stream: its output (read from ``output``, our end of its pipe) and
    reports, as frames on this process's stdout. ``on_close`` once the pipe is closed."""

    def __init__(self, run: int, output: int, on_close: Callable[[int], None]):
        self.run = run
        self.output = output
        self.on_close = on_close

    def forward(self, drain: bool = False) -> None:
        """Send on one read of the run's output, or with ``drain`` all there is now; at EOF close the pipe."""
        while self.output >= 0:
            try:
                data = os.read(self.output, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.close()
                return
            write(1, frame("out", self.run, len(data), data))
            if not drain:
                return

    def pid(self, pid: int) -> None:
        write(1, frame("pid", self.run, pid))

    def records(self, data: bytes) -> None:
        write(1, frame("rec", self.run, len(data), data))

    def failed(self, why: str) -> None:
        text = ("gym-pdb: could not start the program: %s\n" % why).encode()
        write(1, frame("out", self.run, len(text), text))

    def ended(self, code: int) -> None:
        # The child and its process group are gone: what they wrote is in the pipe, and what a
        # process that left the group writes later is not this run's (it gets EPIPE).
        self.forward(drain=True)
        self.close()
        write(1, frame("exit", self.run, code))

    def close(self) -> None:
        if self.output >= 0:
            os.close(self.output)
            self.on_close(self.output)
            self.output = -1


class RequestFifo:
    """Requests from the host's stream (stdin) and from connector processes (docker execs, through a FIFO
    only root can reach)."""

    def __init__(self, path: str):
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        self.fifo = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # read-write: never EOF when writers come and go
        self.pending = b""
        self.from_host = b""
        self.connectors: set[int] = set()
        self.relays: dict[int, Reports] = {}  # our end of a record channel -> where its data is reported
        self.outputs: dict[int, Frames] = {}  # our end of a streamed run's output pipe -> its frames

    @property
    def fds(self) -> list[int]:
        return [self.fifo, 0, *self.relays, *self.outputs]

    def announce(self) -> None:
        """Tell the host the zygote is warm."""
        write(1, frame("ready", 0, os.getpid()))

    def readable(self, zygote: Zygote, fd: int) -> bool:
        if fd in self.outputs:
            self.outputs[fd].forward()
            return True
        if fd in self.relays:
            self.relay(fd)
            return True
        if fd == 0:
            data = os.read(0, 65536)
            if not data:
                return False  # the host is gone
            *lines, self.from_host = (self.from_host + data).split(b"\n")
            for line in lines:
                self.start_streamed(zygote, line)
            return True
        try:
            self.pending += os.read(self.fifo, 65536)
        except BlockingIOError:
            return True
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self.start(zygote, line)
        return True

    def start_streamed(self, zygote: Zygote, line: bytes) -> None:
        try:
            request = json.loads(line)
            run = int(request.pop("run"))
            key = bytes.fromhex(request.pop("key")) if "key" in request else None
        except (ValueError, TypeError, KeyError, AttributeError):
            return
        ours, theirs = os.pipe()
        os.set_blocking(ours, False)
        frames = Frames(run, ours, on_close=self.outputs.__delitem__)
        self.outputs[ours] = frames
        self.start_on(zygote, request, key, os.open(os.devnull, os.O_RDONLY), theirs, frames)

    def start(self, zygote: Zygote, line: bytes) -> None:
        try:
            pid, _, raw = line.partition(b" ")
            connector = int(pid)
            request = json.loads(raw)
            stdin, stdout, control = (os.open("/proc/%d/fd/%d" % (connector, fd), mode) for fd, mode in CONNECTOR_STREAMS)
        except (ValueError, OSError):
            return
        self.start_on(zygote, request, None, stdin, stdout, ControlLines(control, on_end=lambda: self.end(connector)))
        self.connectors.add(connector)

    def start_on(
        self, zygote: Zygote, request: Request, key: bytes | None, stdin: int, stdout: int, reports: Reports
    ) -> None:
        """Start ``request`` on these streams, telling ``reports``; ``key``: give it a record channel."""
        fds = [stdout, stdin]
        ours = None
        if key is not None:
            ours_sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            ours_sock.sendall(key)
            ours_sock.setblocking(False)
            ours = ours_sock.detach()
            fds = [stdout, theirs.detach(), stdin]
            request = dict(request, records=True)
            self.relays[ours] = reports

        def report(pid: int | None, code: int) -> None:
            if ours is not None:
                self.relay(ours, drain=True)
            reports.ended(code)

        try:
            pid = zygote.start(request, fds, report)
        except (LookupError, OSError) as exc:
            for fd in fds:
                os.close(fd)
            reports.failed(str(exc))
            report(None, 126)
            return
        reports.pid(pid)

    def relay(self, fd: int, drain: bool = False) -> None:
        """Pass on what the child wrote to its record channel.

        One read, or with ``drain`` (the run is over) all there is; at EOF the channel is closed.
        """
        reports = self.relays.get(fd)
        if reports is None:
            return
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                if drain:
                    break
                return
            except OSError:
                data = b""
            if not data:
                break
            reports.records(data)
            if not drain:
                return
        del self.relays[fd]
        os.close(fd)

    def end(self, connector: int) -> None:
        self.connectors.discard(connector)
        try:
            os.kill(connector, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        for connector in list(self.connectors):
            self.end(connector)


class OneRequest(RequestFifo):
    """``--once``: one request, read from stdin, run on this process's own streams; ends with it."""

    def __init__(self, zygote: Zygote):
        self.relays = {}
        self.outputs = {}
        self.done = False
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(0, 1)  # a byte at a time: what follows the line is the program's stdin
            if not chunk:
                break
            line += chunk
        key, _, raw = line.strip().partition(b" ")
        request = json.loads(raw)
        stdin, stdout, control = os.dup(0), os.dup(1), os.dup(2)
        records_key = bytes.fromhex(key.decode()) if key != b"-" else None
        self.start_on(zygote, request, records_key, stdin, stdout, ControlLines(control, on_end=self.finish))

    @property
    def fds(self) -> list[int]:
        return list(self.relays)

    def finish(self) -> None:
        self.done = True

    def readable(self, zygote: Zygote, fd: int) -> bool:
        self.relay(fd)
        return True
