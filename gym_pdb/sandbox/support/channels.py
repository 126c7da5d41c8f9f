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
- ``RequestFifo`` (docker): one line ``CONNECTOR_PID REQUEST``, written by a
  connector process (a ``docker exec``, with copies of its stdin, stdout and
  stderr on fds 5, 6, 7); the child gets the connector's stdin and stdout, and
  the connector's stderr gets the lines ``\\x1egym-pdb pid N`` and, when the
  child ends, ``\\x1egym-pdb rc C`` (128+N for signal N, as from sh); then the
  connector is killed, which ends the exec. A line ``CONNECTOR_PID KEY
  REQUEST`` asks for a record channel with that key: the zygote makes it,
  writes the key into it, and relays what the child writes there as lines
  ``\\x1egym-pdb rec BASE64`` on the connector's stderr, before the ``rc``
  line. The zygote exits when its stdin closes.
- ``OneRequest`` (``--once``, docker without a warm interpreter): the same for
  one request read from stdin, on this process's own streams.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
from typing import Any, Callable, Sequence

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


class RequestFifo:
    """Requests from connector processes (docker execs), one line each through a FIFO only root can reach."""

    def __init__(self, path: str):
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        self.fifo = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # read-write: never EOF when writers come and go
        self.pending = b""
        self.connectors: set[int] = set()
        self.relays: dict[int, int] = {}  # our end of a record channel -> the control stream its lines go to

    @property
    def fds(self) -> list[int]:
        return [self.fifo, 0, *self.relays]

    def readable(self, zygote: Zygote, fd: int) -> bool:
        if fd in self.relays:
            self.relay(fd)
            return True
        if fd == 0:
            return bool(os.read(0, 4096))  # the host's end: EOF means it is gone
        try:
            self.pending += os.read(self.fifo, 65536)
        except BlockingIOError:
            return True
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self.start(zygote, line)
        return True

    def start(self, zygote: Zygote, line: bytes) -> None:
        try:
            pid, _, raw = line.partition(b" ")
            connector = int(pid)
            key = None
            if not raw.startswith(b"{"):
                hexkey, _, raw = raw.partition(b" ")
                key = bytes.fromhex(hexkey.decode())
            request = json.loads(raw)
            stdin, stdout, control = (os.open("/proc/%d/fd/%d" % (connector, fd), mode) for fd, mode in CONNECTOR_STREAMS)
        except (ValueError, OSError):
            return
        self.start_on(zygote, request, key, stdin, stdout, control, on_end=lambda: self.end(connector))
        self.connectors.add(connector)

    def start_on(
        self,
        zygote: Zygote,
        request: Request,
        key: bytes | None,
        stdin: int,
        stdout: int,
        control: int,
        on_end: Callable[[], None] = lambda: None,
    ) -> None:
        """Start ``request`` on these streams, reporting on ``control``; ``key``: give it a record channel."""
        fds = [stdout, stdin]
        ours = None
        if key is not None:
            ours_sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            ours_sock.sendall(key)
            ours_sock.setblocking(False)
            ours = ours_sock.detach()
            fds = [stdout, theirs.detach(), stdin]
            request = dict(request, records=True)
            self.relays[ours] = control

        def report(pid: int | None, code: int) -> None:
            if ours is not None:
                self.relay(ours, drain=True)
            write(control, "\x1egym-pdb rc %d\n" % (code if code >= 0 else 128 - code))
            os.close(control)
            on_end()

        try:
            pid = zygote.start(request, fds, report)
        except (LookupError, OSError) as exc:
            for fd in fds:
                os.close(fd)
            write(control, "gym-pdb: could not start the program: %s\n" % (exc,))
            report(None, 126)
            return
        write(control, "\x1egym-pdb pid %d\n" % pid)

    def relay(self, fd: int, drain: bool = False) -> None:
        """Pass what the child wrote to its record channel on to the host, as control lines.

        One read, or with ``drain`` (the run is over) all there is; at EOF the channel is closed.
        """
        control = self.relays.get(fd)
        if control is None:
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
            write(control, "\x1egym-pdb rec %s\n" % base64.b64encode(data).decode())
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
        self.start_on(zygote, request, records_key, stdin, stdout, control, on_end=self.finish)

    @property
    def fds(self) -> list[int]:
        return list(self.relays)

    def finish(self) -> None:
        self.done = True

    def readable(self, zygote: Zygote, fd: int) -> bool:
        self.relay(fd)
        return True
