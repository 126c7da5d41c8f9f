"""Exec sockets: start a Docker exec, demultiplex its streams, read its output up to a marker.

A step of an episode is one write and one read on a socket that stays open,
so this layer is about not waiting: the HTTP upgrade is done by hand (no byte
of output can sit in an HTTP library's buffer), output is read with ``poll``
as it arrives, and nothing sleeps. It knows nothing of sandboxes or
containers: an exec-based backend hands it a socket (or an API client and an
exec id) and gets an :class:`ExecStream`.
"""

from __future__ import annotations

import base64
import binascii
import select
import socket
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from gym_pdb.sandbox.base import BoundedBuffer, SandboxError
from gym_pdb.sandbox.docker.protocol import REPORT

READ_CHUNK = 262144
HEADER_SIZE = 8
STDERR = 2


def docker_sdk() -> ModuleType:
    """The ``docker`` package, imported on first use so that gym-pdb runs without it.

    Raises:
        SandboxError: it is not installed.
    """
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SandboxError(
            "the docker sandbox needs the Docker SDK for Python: pip install 'gym-pdb[docker]' (or docker>=7)"
        ) from exc
    return docker


def split_frames(raw: bytearray) -> list[tuple[int, bytearray]]:
    """Take the complete frames off the front of ``raw``: (stream, payload) each; a partial frame stays.

    Docker frames each chunk of a non-TTY exec's output with an 8-byte header:
    the stream (1 stdout, 2 stderr), three zero bytes, the payload's size (big-endian).
    """
    frames = []
    while len(raw) >= HEADER_SIZE:
        stream, size = raw[0], int.from_bytes(raw[4:8], "big")
        end = HEADER_SIZE + size
        if len(raw) < end:
            break
        frames.append((stream, raw[HEADER_SIZE:end]))
        del raw[:end]
    return frames


class ExecStream:
    """The hijacked socket of one exec: stdin out, demultiplexed stdout and stderr in.

    stdout payloads gather in ``pending``. Report lines on stderr (see
    :mod:`~gym_pdb.sandbox.docker.protocol`) set ``pid``, ``rc`` and
    ``records``; other stderr lines join ``pending`` when ``keep_stderr``.

    Args:
        sock: the connected socket, past the HTTP upgrade.
        initial: bytes already read from it with the upgrade's response.
        keep_stderr: keep stderr lines that are no reports (a control job's own errors).
    """

    def __init__(self, sock: Any, initial: bytes = b"", keep_stderr: bool = True):
        self.sock = sock
        self.keep_stderr = keep_stderr
        self.fileno = sock.fileno()
        self._poller = select.poll()
        self._poller.register(self.fileno, select.POLLIN | select.POLLPRI)
        self._raw = bytearray()
        self._err = bytearray()
        self.pending = bytearray()
        self.pid: int | None = None
        self.rc: int | None = None
        self.records = bytearray()
        self.eof = False
        self.closed = False
        if initial:
            self._feed(initial)

    def send(self, data: bytes) -> None:
        """Write ``data`` to the exec's stdin."""
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        """Close the exec's stdin (it reads end of file)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def pump(self, timeout: float | None) -> bool:
        """Take in what arrives within ``timeout`` seconds (None: wait); False if nothing did."""
        if self.eof:
            return True
        pending = getattr(self.sock, "pending", None)  # TLS sockets buffer decrypted bytes
        if not (pending and pending()):
            if not self._poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999))):
                return False
        try:
            data = self.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:
            self.eof = True
            self._flush_err()
            return True
        self._feed(data)
        return True

    def _feed(self, data: bytes) -> None:
        self._raw += data
        for stream, payload in split_frames(self._raw):
            if stream == STDERR:
                self._err += payload
                self._parse_err()
            else:
                self.pending += payload

    def _parse_err(self) -> None:
        while True:
            nl = self._err.find(b"\n")
            if nl < 0:
                return
            line = bytes(self._err[: nl + 1])
            del self._err[: nl + 1]
            if line.startswith(REPORT):
                key, _, value = line[len(REPORT) :].strip().partition(b" ")
                try:
                    if key == b"pid":
                        self.pid = int(value)
                    elif key == b"rc":
                        self.rc = int(value)
                    elif key == b"rec":
                        self.records += base64.b64decode(value, validate=True)
                    continue
                except (ValueError, binascii.Error):
                    pass
            if self.keep_stderr:
                self.pending += line

    def _flush_err(self) -> None:
        if self._err and self.keep_stderr:
            self.pending += self._err
            self._err.clear()

    def take(self) -> bytes:
        """What ``pending`` holds, emptying it."""
        data = bytes(self.pending)
        self.pending.clear()
        return data

    def drain(self, deadline: float) -> None:
        """Take in output until end of file or ``deadline`` (a ``time.monotonic()`` time)."""
        while not self.eof and time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())

    def close(self) -> None:
        """Close the socket (idempotent); the exec's stdin reads end of file."""
        if not self.closed:
            self.closed = True
            try:
                self._poller.unregister(self.fileno)
            except (KeyError, ValueError, OSError):
                pass
            for closer in (getattr(self.sock, "_response", None), self.sock):
                try:
                    if closer is not None:
                        closer.close()
                except Exception:  # noqa: BLE001 - best effort
                    pass


def read_to_marker(
    stream: ExecStream, marker: bytes, timeout: float, limit: int, stop: Callable[[], bool] | None = None
) -> tuple[bytes, bool]:
    """Read ``stream``'s output until it ends with ``marker``, as :meth:`InteractiveProcess.read_until` does.

    Args:
        stream: the exec's stream.
        marker: what the reply ends with (a prompt).
        timeout: seconds to wait at most.
        limit: bytes kept at most (head and tail).
        stop: stop reading when it returns True (the process was killed).

    Returns:
        ``(data, found)``; ``found`` is False at end of file, ``stop`` or timeout.
    """
    buf = BoundedBuffer(limit)
    deadline = time.monotonic() + timeout
    while True:
        if stream.pending:
            buf.add(stream.take())
            if buf.endswith(marker):
                return buf.getvalue(strip_marker=marker), True
        if stream.eof or (stop is not None and stop()):
            return buf.getvalue(), False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return buf.getvalue(), False
        stream.pump(remaining)


def read_reply(stream: ExecStream, marker: bytes, timeout: float) -> tuple[bytes, bytes]:
    """Read until ``marker`` and the end of its line: (the output before it, the rest of that line).

    Raises:
        EOFError: the stream ended first.
        TimeoutError: ``timeout`` seconds passed first.
    """
    buf = bytearray()
    searched = 0
    deadline = time.monotonic() + timeout
    while True:
        if stream.pending:
            buf += stream.take()
            at = buf.find(marker, searched)
            searched = at if at >= 0 else max(0, len(buf) - len(marker))
            if at >= 0:
                end = buf.find(b"\n", at)
                if end >= 0:
                    return bytes(buf[:at]), bytes(buf[at + len(marker) : end])
        if stream.eof:
            raise EOFError("the stream ended before the reply")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no reply in time")
        stream.pump(remaining)


def open_exec_socket(api: Any, exec_id: str, keep_stderr: bool = True, timeout: float = 30.0) -> ExecStream:
    """Start an exec and return its hijacked socket.

    For a local socket (unix or plain TCP) the HTTP upgrade is done here, so
    that no byte of output can be left behind in an HTTP library's buffer;
    other transports (TLS, ssh) use the SDK's ``exec_start(socket=True)``.

    Args:
        api: a ``docker.APIClient`` (``DockerClient.api``).
        exec_id: an exec created with ``exec_create``, not started.
        keep_stderr: see :class:`ExecStream`.
        timeout: seconds to connect.

    Raises:
        docker.errors.APIError: dockerd refused to start it.
        SandboxError: dockerd closed the connection.
        OSError: the socket failed.
    """
    adapter = getattr(api, "_custom_adapter", None)
    socket_path = getattr(adapter, "socket_path", None)
    base = api.base_url
    sock = None
    if socket_path and base.startswith("http+docker://") and "ssh" not in base and "npipe" not in base:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(socket_path)
    elif base.startswith("http://"):
        parsed = urlparse(base)
        sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout=timeout)
    if sock is None:
        raw = api.exec_start(exec_id, socket=True)
        return ExecStream(getattr(raw, "_sock", raw), keep_stderr=keep_stderr)
    try:
        path = urlparse(api._url("/exec/{0}/start", exec_id)).path
        rest = _upgrade(sock, path)
        sock.settimeout(None)
        return ExecStream(sock, rest, keep_stderr=keep_stderr)
    except BaseException:
        sock.close()
        raise


def _upgrade(sock: socket.socket, path: str) -> bytes:
    """POST the exec start with ``Upgrade: tcp``; return the bytes read past the response's head."""
    body = b'{"Detach":false,"Tty":false}'
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: gym-pdb\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        ).encode()
        + body
    )
    head = bytearray()
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        if not chunk:
            raise SandboxError("dockerd closed the connection while starting an exec")
        head += chunk
    header, _, rest = bytes(head).partition(b"\r\n\r\n")
    status = int(header.split(b"\r\n", 1)[0].decode("latin-1").split()[1])
    if status in (101, 200):
        return rest
    length = 0
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    body_in = bytearray(rest)
    while len(body_in) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body_in += chunk
    raise docker_sdk().errors.APIError(
        f"{status} exec start: {bytes(body_in).decode('utf-8', 'replace').strip()}", response=_Status(status)
    )


class _Status:
    """The part of a ``requests.Response`` that ``APIError.status_code`` reads."""

    def __init__(self, status: int):
        self.status_code = status
        self.reason = ""
