"""The Docker sandbox: task code in a long-lived, locked-down container.

One container per sandbox, created at first use (or claimed from a pool that
``docker compose`` started: attach mode) and reused across episodes:
``reset_workspace`` empties the workspace and lays the task's files with the
Docker API's archive upload; it starts no new container.

Everything goes through the Docker API (the ``docker`` package), never the
``docker`` CLI:

- files: ``put_archive`` into a workspace that is a size-limited tmpfs
  *volume* (the archive API cannot reach a plain ``--tmpfs`` mount on
  Docker < 25; for pool containers whose workspace is such a mount, the tar
  goes through an exec's stdin instead); reads through the control shell;
- commands and the pdb session: one exec each, over the exec's hijacked socket
  (8-byte stream headers demultiplexed here, read with ``poll`` up to a marker;
  nothing sleeps). A tiny ``sh`` wrapper starts the command in its own session
  (``setsid``), reports its pid and exit status on the exec's stderr stream,
  and merges the command's stderr into stdout, in order;
- control (kill a process group, SIGUSR1, empty the workspace, read a file):
  one persistent root exec per container (an ``sh`` reading commands from its
  stdin), so a control step costs a socket round trip, not a new exec.

Isolation, by default: no network (``network_mode=none``), memory (no swap),
CPU and pids limits, a fresh unprivileged uid per container (so that the
``nproc`` limit is per sandbox), ``no-new-privileges``, a read-only root
filesystem, a size-limited writable workspace and ``/tmp``, and all
capabilities dropped but six that only the root control shell can use (task
code runs with empty capability sets and can gain none: see ``ROOT_CAPS``).
Read-only task files belong to root, mode 0444, in root-owned sticky folders:
the program can neither change, remove nor replace them.

A container that dies (OOM, crash, killed from outside) is detected: the
operation raises :class:`SandboxError`, and the next ``reset_workspace`` makes
a new container. Containers carry labels (``gym-pdb.sandbox``, the owner
process, the creation time); ``close()``, the interpreter's exit and
:func:`prune` (``gym-pdb sandbox prune``) remove them.
"""

from __future__ import annotations

import base64
import binascii
import errno
import io
import json
import posixpath
import os
import random
import secrets
import select
import shlex
import socket
import tarfile
import threading
import time
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlparse

from gym_pdb.sandbox.base import (
    BoundedBuffer,
    ExecResult,
    InteractiveProcess,
    Limits,
    Sandbox,
    SandboxError,
    SandboxInfo,
    safe_relpath,
    sandbox_env,
)
from gym_pdb.sandbox.owner import owner_alive, owner_token
from gym_pdb.sandbox.support import support_files
from gym_pdb.sandbox.warm import forkable, zygote_config

DEFAULT_IMAGE = "gym-pdb-sandbox:latest"
LABEL = "gym-pdb.sandbox"  # every container (and workspace volume) made here
LABEL_OWNER = "gym-pdb.owner"  # host:pid:start-time of the creating process
LABEL_CREATED = "gym-pdb.created"
POOL_LABEL = "gym-pdb.pool"  # containers of a compose pool (attach mode)
WORKDIR = "/workspace"
SUPPORT_DIR = "/opt/gym_pdb"
CLAIM_DIR = SUPPORT_DIR + "/.claim"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UID_RANGE = (100_000, 1_000_000)
PIDS_HEADROOM = 64  # container pids beyond the sandbox uid's nproc: room for control execs
READ_CHUNK = 262144
CONTROL_WRITE_MAX = 16384  # bytes a file may have to be written through the control shell (it reads a byte at a time)
# Capabilities left in the container's bounding set, for its root control shell
# only (kill the sandbox uid's processes, empty its files, switch to it). Task
# code runs as an unprivileged uid with no-new-privileges: its capability sets
# are empty and it can gain none. (A privileged exec cannot add capabilities to
# a container started with cap_drop=ALL, so these must be there from the start.)
ROOT_CAPS = ("KILL", "DAC_OVERRIDE", "FOWNER", "CHOWN", "SETUID", "SETGID")
CTRL = b"\x1egym-pdb "  # control lines of the wrapper, on the exec's stderr stream

# Runs each command: its own session and process group (setsid), stdin passed
# on, stderr merged into stdout; pid and exit status reported on stderr; what
# is left of its process group killed once it exits (like the local sandbox).
_WRAPPER = (
    "exec 3<&0\n"
    'setsid "$@" <&3 3<&- 2>&1 &\n'
    "p=$!\n"
    "exec 3<&-\n"
    "printf '\\036gym-pdb pid %s\\n' \"$p\" >&2\n"
    'wait "$p"\n'
    "rc=$?\n"
    'kill -9 "-$p" 2>/dev/null\n'
    "printf '\\036gym-pdb rc %s\\n' \"$rc\" >&2\n"
)

# Claiming a pool container: mkdir is atomic. Taking over the claim of a dead
# process: compare-and-swap of the owner, under a mutex (another mkdir).
_CLAIM = f'mkdir {CLAIM_DIR} 2>/dev/null && printf %s "$1" > {CLAIM_DIR}/owner'
_STEAL = (
    f"mkdir {CLAIM_DIR}.steal 2>/dev/null || exit 1; "
    f'[ "$(cat {CLAIM_DIR}/owner 2>/dev/null)" = "$1" ] && rm -rf {CLAIM_DIR} && mkdir {CLAIM_DIR} && '
    f'printf %s "$2" > {CLAIM_DIR}/owner; rc=$?; rmdir {CLAIM_DIR}.steal; exit $rc'
)

# The warm interpreter (support/zygote.py) of a container and its request FIFO
# (root only). A python command is started by a connector exec, which writes
# its pid and the request to the FIFO and waits; the zygote forks the program
# onto the connector's streams (its fds 5, 6, 7), reports its pid and exit code on the
# connector's stderr (as the wrapper does), then ends it.
WARM_FIFO = SUPPORT_DIR + "/.warm/requests"
MAX_WARM_REQUEST = 3500  # a FIFO line is written at once only up to PIPE_BUF (4096 bytes)
# Its streams go to fds 5-7 first: those stay put while printf's output is redirected.
_CONNECTOR = f'exec 5<&0 6>&1 7>&2; printf "%s %s\\n" "$$" "$1" > {WARM_FIFO} && exec sleep 2147483647'
# The same for a run with a record channel: the key comes first on stdin (a shell variable, never an
# argument: arguments are world-readable in /proc), then the rest of stdin is the program's.
_KEYED_CONNECTOR = (
    f'IFS= read -r key; exec 5<&0 6>&1 7>&2; printf "%s %s %s\\n" "$$" "$key" "$1" > {WARM_FIFO} && '
    "exec sleep 2147483647"
)

# The persistent root control shell: reads one command per line.
_ADMIN_SHELL = "exec 2>&1; while IFS= read -r line; do eval \"$line\"; done"


def _docker():
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SandboxError(
            "the docker sandbox needs the Docker SDK for Python: pip install 'gym-pdb[docker]' (or docker>=7)"
        ) from exc
    return docker


def default_image() -> str:
    return os.environ.get("GYM_PDB_IMAGE") or DEFAULT_IMAGE


def _signal_code(rc: int) -> int:
    """sh reports death by signal N as 128+N; report it as -N, like subprocess."""
    return -(rc - 128) if 128 < rc < 128 + 65 else rc


def _tar(entries: list[tuple[str, bytes | None, int, int]]) -> bytes:
    """A tar of (name, content or None for a folder, mode, uid) entries."""
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


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


# ---------------------------------------------------------------------------
# exec sockets


class _ExecStream:
    """The hijacked socket of one exec: stdin out, demultiplexed stdout/stderr in.

    Docker frames each chunk of output with an 8-byte header (stream, 0, 0, 0,
    big-endian size). stdout payloads gather in ``pending``; the wrapper's
    control lines (stderr) set ``pid`` and ``rc``.
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
        self.records = bytearray()  # relayed by the zygote from the process's record channel
        self.eof = False
        self.closed = False
        if initial:
            self._feed(initial)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def pump(self, timeout: float | None) -> bool:
        """Take in what arrives within ``timeout`` seconds; False if nothing did."""
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
        raw = self._raw
        raw += data
        while len(raw) >= 8:
            size = int.from_bytes(raw[4:8], "big")
            if len(raw) < 8 + size:
                break
            stream = raw[0]
            if stream == 2:
                self._err += raw[8 : 8 + size]
                self._parse_err()
            else:
                self.pending += raw[8 : 8 + size]
            del raw[: 8 + size]

    def _parse_err(self) -> None:
        while True:
            nl = self._err.find(b"\n")
            if nl < 0:
                return
            line = bytes(self._err[: nl + 1])
            del self._err[: nl + 1]
            if line.startswith(CTRL):
                key, _, value = line[len(CTRL) :].strip().partition(b" ")
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
                self.pending += line  # a control job's own error output

    def _flush_err(self) -> None:
        if self._err and self.keep_stderr:
            self.pending += self._err
            self._err.clear()

    def take(self) -> bytes:
        data = bytes(self.pending)
        self.pending.clear()
        return data

    def close(self) -> None:
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


class _Container:
    """What the sandbox knows of its container; shared with the finalizer (not the sandbox)."""

    def __init__(self, client: Any, cid: str, name: str, uid: int, attached: bool, archive: Sequence[str] = ()):
        self.client = client
        self.id = cid
        self.name = name
        self.uid = uid
        self.attached = attached
        self.archive = set(archive)  # folders the archive API reaches (volume or bind mounts)
        self.dead: str | None = None  # why it is unusable
        self.volumes: list[str] = []  # its workspace volumes (removed with it, even if it was removed from outside)
        self.admin: _ExecStream | None = None
        self.warm: _ExecStream | None = None  # the zygote's exec
        self.warm_ready = False
        self.lock = threading.RLock()


def _open_exec_socket(api: Any, exec_id: str, keep_stderr: bool = True, timeout: float = 30.0) -> _ExecStream:
    """Start an exec and return its hijacked socket.

    For a local socket (unix or plain TCP) the HTTP upgrade is done here, so
    that no byte of output can be left behind in an HTTP library's buffer;
    other transports (TLS, ssh) use the SDK's ``exec_start(socket=True)``.
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
        return _ExecStream(getattr(raw, "_sock", raw), keep_stderr=keep_stderr)
    try:
        path = urlparse(api._url("/exec/{0}/start", exec_id)).path
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
        status_line = header.split(b"\r\n", 1)[0].decode("latin-1")
        status = int(status_line.split()[1])
        if status not in (101, 200):
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
            docker = _docker()
            raise docker.errors.APIError(
                f"{status} exec start: {bytes(body_in).decode('utf-8', 'replace').strip()}",
                response=_FakeResponse(status),
            )
        sock.settimeout(None)
        return _ExecStream(sock, rest, keep_stderr=keep_stderr)
    except BaseException:
        sock.close()
        raise


class _FakeResponse:
    def __init__(self, status: int):
        self.status_code = status
        self.reason = ""


# ---------------------------------------------------------------------------
# processes


class DockerProcess(InteractiveProcess):
    """A process in the sandbox container, read over its exec socket."""

    def __init__(self, sandbox: "DockerSandbox", stream: _ExecStream, container: _Container):
        self._sandbox = sandbox
        self._stream = stream
        self._container = container
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
        buf = BoundedBuffer(limit)
        stream = self._stream
        deadline = time.monotonic() + timeout
        while True:
            if stream.pending:
                buf.add(stream.take())
                if buf.endswith(marker):
                    return buf.getvalue(strip_marker=marker), True
            if stream.eof or self._killed:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return buf.getvalue(), False
            stream.pump(remaining)
        if stream.rc is None and not self._killed:
            self._sandbox._check_container_after_eof(self._container)
        return buf.getvalue(), False

    def alive(self) -> bool:
        if self._killed:
            return False
        for _ in range(64):  # take in what is already there (bounded: output may never stop)
            if self._stream.eof or not self._stream.pump(0):
                break
        return not self._stream.eof and self._stream.rc is None

    def interrupt(self) -> None:
        if self.alive() and self.pid is not None:
            self._sandbox._control(f"kill -USR1 {self.pid} 2>/dev/null", self._container, check=False)

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        if self.pid is not None and self._stream.rc is None and not self._container.dead:
            try:
                self._sandbox._control(f"kill -9 -{self.pid} {self.pid} 2>/dev/null", self._container, check=False)
            except SandboxError:
                pass
        self._stream.close()
        self._sandbox._processes.discard(self)

    def _abandon(self) -> None:
        self._killed = True
        self._stream.close()
        self._sandbox._processes.discard(self)

    @property
    def exit_code(self) -> int | None:
        if self._stream.rc is not None:
            return _signal_code(self._stream.rc)
        if self._killed or self._stream.eof:
            return -9
        return None


# ---------------------------------------------------------------------------
# the sandbox


class DockerSandbox(Sandbox):
    """Runs task code in a long-lived Docker container (or one claimed from a pool).

    Args:
        limits: resource limits (memory, processes, open files, file size, CPU
            seconds, output budget, network).
        image: the sandbox image (``GYM_PDB_IMAGE``, else ``gym-pdb-sandbox:latest``).
        client: a ``docker.DockerClient`` (default: ``docker.from_env()``).
        attach: take an idle container of a compose pool instead of creating
            one: True for any container labelled ``gym-pdb.pool``, or a label
            filter (``key`` or ``key=value``). Default: ``GYM_PDB_DOCKER_ATTACH``.
        cpus: CPU share (``nano_cpus``), default 1.0.
        workspace_bytes, tmp_bytes: sizes of the writable workspace and /tmp.
        uid: the uid that runs task code (default: random, one per container).
        python: the interpreter in the image (found on PATH).
        labels: extra container labels.
        create_timeout: seconds to wait for the Docker daemon when creating.
        warm: run ``python SCRIPT`` and ``python -m MODULE`` by forking a warm
            interpreter in the container (``support/zygote.py``) instead of
            starting one.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        image: str | None = None,
        client: Any = None,
        attach: bool | str | None = None,
        cpus: float = 1.0,
        workspace_bytes: int = 512 * 1024**2,
        tmp_bytes: int = 256 * 1024**2,
        uid: int | None = None,
        python: str = "python3",
        labels: Mapping[str, str] | None = None,
        create_timeout: float = 120.0,
        warm: bool = True,
    ):
        self.limits = limits or Limits()
        self.image = image or default_image()
        if attach is None:
            attach = os.environ.get("GYM_PDB_DOCKER_ATTACH") or False
            if isinstance(attach, str) and attach.lower() in ("0", "false", "no", ""):
                attach = False
            elif isinstance(attach, str) and attach.lower() in ("1", "true", "yes"):
                attach = True
        self.attach: str | None = (POOL_LABEL if attach is True else attach) or None
        self.cpus = cpus
        self.workspace_bytes = workspace_bytes
        self.tmp_bytes = tmp_bytes
        self._fixed_uid = uid
        self.labels = dict(labels or {})
        self.create_timeout = create_timeout
        self.forks_python = warm
        self._client = client
        self._c: _Container | None = None
        self._closed = False
        self._processes: weakref.WeakSet[DockerProcess] = weakref.WeakSet()
        self._finalizer: weakref.finalize | None = None
        self._support = support_files()
        self.info = SandboxInfo(
            workdir=WORKDIR,
            support_dir=SUPPORT_DIR,
            python=python,
            extra={"backend": "docker", "image": self.image, "attach": self.attach, "container": None, "uid": None},
        )

    # -- the container -----------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            docker = _docker()
            try:
                self._client = docker.from_env(timeout=int(self.create_timeout))
                self._client.ping()
            except docker.errors.DockerException as exc:
                self._client = None
                raise SandboxError(f"cannot reach the Docker daemon: {exc}") from exc
        return self._client

    @property
    def container_id(self) -> str | None:
        """The id of the container in use (None before first use)."""
        return self._c.id if self._c else None

    def _container(self) -> _Container:
        self._check_open()
        if self._c is None:
            self._c = self._claim() if self.attach else self._create()
            self.info.extra.update(container=self._c.id, uid=self._c.uid, name=self._c.name)
            self._finalizer = weakref.finalize(self, _release, self._c)
            if self.forks_python:
                self._start_warm(self._c)
        if self._c.dead:
            raise SandboxError(self._c.dead)
        return self._c

    def _new_uid(self) -> int:
        return self._fixed_uid if self._fixed_uid is not None else random.SystemRandom().randrange(*UID_RANGE)

    def _create(self) -> _Container:
        docker = _docker()
        from docker.types import DriverConfig, Mount, Ulimit

        client = self.client
        lim = self.limits
        uid = self._new_uid()
        labels = {
            LABEL: "1",
            LABEL_OWNER: owner_token(),
            LABEL_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **self.labels,
        }

        def tmpfs_volume(target: str, size: int, mode: str) -> Mount:
            opts = {"type": "tmpfs", "device": "tmpfs", "o": f"size={int(size)},mode={mode},nosuid,nodev"}
            return Mount(target, None, type="volume", labels={LABEL: "1"}, driver_config=DriverConfig("local", opts))

        ulimits = [Ulimit(name="core", soft=0, hard=0)]
        for name, value in (
            ("nproc", lim.processes),
            ("nofile", lim.open_files),
            ("fsize", lim.file_size_bytes),
            ("cpu", lim.cpu_seconds),
        ):
            if value:
                ulimits.append(Ulimit(name=name, soft=int(value), hard=int(value)))
        name = f"gym-pdb-{os.getpid()}-{secrets.token_hex(4)}"
        kwargs: dict[str, Any] = dict(
            name=name,
            user="0:0",  # only tini and sleep; task code runs as `uid`, never root
            labels=labels,
            detach=True,
            hostname="sandbox",
            working_dir=WORKDIR,
            network_mode="bridge" if lim.network else "none",
            mem_limit=int(lim.memory_bytes) if lim.memory_bytes else None,
            memswap_limit=int(lim.memory_bytes) if lim.memory_bytes else None,
            nano_cpus=int(self.cpus * 1e9) if self.cpus else None,
            pids_limit=int(lim.processes) + PIDS_HEADROOM if lim.processes else None,
            cap_drop=["ALL"],
            cap_add=list(ROOT_CAPS),
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={int(self.tmp_bytes)},mode=1777"},
            mounts=[
                tmpfs_volume(WORKDIR, self.workspace_bytes, "1777"),
                tmpfs_volume(SUPPORT_DIR, 16 * 1024**2, "0755"),
            ],
            ulimits=ulimits,
        )
        try:
            container = client.containers.create(self.image, **kwargs)
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(
                f"the sandbox image {self.image} is missing: build it with `gym-pdb build-image` "
                "(or `gym-pdb build-image --offline` without a registry)"
            ) from exc
        except docker.errors.APIError as exc:
            raise SandboxError(f"cannot create a sandbox container from {self.image}: {exc}") from exc
        c = _Container(client, container.id, name, uid, attached=False, archive=(WORKDIR, SUPPORT_DIR))
        try:
            container.start()
            mounts = client.api.inspect_container(container.id).get("Mounts") or []
            c.volumes = [m["Name"] for m in mounts if m.get("Type") == "volume" and m.get("Name")]
            self._upload(c, SUPPORT_DIR, self._support_tar(), clear=False)
        except BaseException as exc:
            _remove_container(client, container.id)
            if isinstance(exc, docker.errors.APIError):
                raise SandboxError(f"cannot start a sandbox container from {self.image}: {exc}") from exc
            raise
        return c

    def _support_tar(self) -> bytes:
        return _tar([(name, content, 0o644, 0) for name, content in sorted(self._support.items())])

    # -- attach mode -------------------------------------------------------
    def _claim(self) -> _Container:
        docker = _docker()
        client = self.client
        selector = self.attach or POOL_LABEL
        try:
            candidates = client.containers.list(filters={"label": selector, "status": "running"})
        except docker.errors.APIError as exc:
            raise SandboxError(f"cannot list the pool containers ({selector}): {exc}") from exc
        random.shuffle(candidates)
        token = owner_token()
        for stale_pass in (False, True):
            for container in candidates:
                uid = self._new_uid()
                archive = [
                    m.get("Destination")
                    for m in container.attrs.get("Mounts", [])
                    if m.get("Type") in ("volume", "bind") and m.get("Destination") in (WORKDIR, SUPPORT_DIR)
                ]
                c = _Container(client, container.id, container.name, uid, attached=True, archive=archive)
                try:
                    if stale_pass:  # take over the claim of a dead process of this host
                        owner = self._exec_collect(c, ["cat", CLAIM_DIR + "/owner"], user="0:0")
                        dead = owner.text.strip()
                        if owner.exit_code != 0 or owner_alive(dead) is not False:
                            continue
                        got = self._exec_collect(c, ["sh", "-c", _STEAL, "sh", dead, token], user="0:0")
                    else:  # mkdir is atomic: one claimant wins
                        got = self._exec_collect(c, ["sh", "-c", _CLAIM, "sh", token], user="0:0")
                except SandboxError:
                    continue
                if got.exit_code != 0:
                    continue
                try:
                    self._control(self._scrub_command(c, kill_all=True), c)
                    self._upload(c, SUPPORT_DIR, self._support_tar(), clear=False)
                except BaseException:
                    _release(c)
                    raise
                return c
        raise SandboxError(
            f"no idle container in the pool ({selector}, {len(candidates)} running): start more with "
            "`docker-compose -f docker/compose.yaml up -d --scale sandbox=N`, or run `gym-pdb sandbox prune` "
            "to free the claims of dead processes"
        )

    # -- control -----------------------------------------------------------
    def _exec(
        self,
        c: _Container,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bool = False,
        keep_stderr: bool = True,
    ) -> _ExecStream:
        docker = _docker()
        api = c.client.api
        try:
            exec_id = api.exec_create(
                c.id,
                list(argv),
                stdin=stdin,
                user=user or f"{c.uid}:{c.uid}",
                environment=dict(env) if env else None,
                workdir=WORKDIR,
            )["Id"]
            return _open_exec_socket(api, exec_id, keep_stderr=keep_stderr)
        except docker.errors.NotFound as exc:
            self._mark_dead(c)
            raise SandboxError(c.dead) from exc
        except docker.errors.APIError as exc:
            if exc.status_code == 409 or "not running" in str(exc):
                self._mark_dead(c)
                raise SandboxError(c.dead) from exc
            raise SandboxError(f"docker exec failed: {exc}") from exc
        except OSError as exc:
            raise SandboxError(f"cannot talk to the Docker daemon: {exc}") from exc

    def _exec_collect(self, c: _Container, argv: Sequence[str], stdin_data: bytes | None = None, **kw) -> ExecResult:
        """Run a short control exec to its end, with optional stdin data; its exit code comes on stderr."""
        start = time.monotonic()
        argv = ["sh", "-c", '"$@"; printf "\\036gym-pdb rc %d\\n" $? >&2', "sh", *argv]
        stream = self._exec(c, argv, stdin=stdin_data is not None, **kw)
        try:
            if stdin_data is not None:
                stream.send(stdin_data)
                stream.shutdown_write()
            deadline = start + 120
            while not stream.eof and time.monotonic() < deadline:
                stream.pump(deadline - time.monotonic())
            output = stream.take()
        finally:
            stream.close()
        return ExecResult(exit_code=stream.rc, output=output, elapsed=time.monotonic() - start)

    def _admin(self, c: _Container) -> _ExecStream:
        if c.admin is None or c.admin.eof or c.admin.closed:
            if c.admin is not None:
                c.admin.close()
            c.admin = self._exec(c, ["sh", "-c", _ADMIN_SHELL], user="0:0", stdin=True)
        return c.admin

    def _control(self, command: str, c: _Container | None = None, check: bool = True, timeout: float = 60) -> bytes:
        """Run a shell command as root in the container over the persistent control shell."""
        c = c or self._container()
        with c.lock:
            admin = self._admin(c)
            token = secrets.token_hex(8).encode()
            marker = b"\x1egym-pdb-done " + token + b" "
            if "\n" in command:
                raise ValueError("control commands are one line")
            admin.send(f"{{ {command}; }} </dev/null; printf '\\036gym-pdb-done %s %d\\n' {token.decode()} $?\n".encode())
            buf = bytearray()
            searched = 0
            deadline = time.monotonic() + timeout
            while True:
                if admin.pending:
                    buf += admin.take()
                    at = buf.find(marker, searched)
                    searched = at if at >= 0 else max(0, len(buf) - len(marker))
                    if at >= 0:
                        end = buf.find(b"\n", at)
                        if end >= 0:
                            rc = int(buf[at + len(marker) : end] or 0)
                            out = bytes(buf[:at])
                            if check and rc != 0:
                                raise SandboxError(f"sandbox control command failed ({rc}): {out.decode(errors='replace')}")
                            return out
                if admin.eof:
                    admin.close()
                    self._check_container_after_eof(c)
                    raise SandboxError("the sandbox's control shell ended unexpectedly")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    admin.close()
                    raise SandboxError(f"sandbox control command timed out: {command[:80]}")
                admin.pump(remaining)

    @staticmethod
    def _as_user(c: _Container) -> str:
        """Prefix of a control command that runs it as the sandbox uid (links it planted get its rights)."""
        return f"setpriv --reuid={c.uid} --regid={c.uid} --clear-groups"

    def _scrub_command(self, c: _Container, kill_all: bool = False) -> str:
        """Kill every process of the sandbox uid (all non-root ones with kill_all); empty workspace and /tmp."""
        kill = f"{self._as_user(c)} sh -c 'kill -9 -1; kill -9 -1' 2>/dev/null"
        if kill_all:  # a claimed container: whatever uid the last claimant used
            kill = (
                "for d in /proc/[0-9]*; do u=$(stat -c %u $d 2>/dev/null) && [ \"$u\" != 0 ] && "
                "kill -9 ${d#/proc/} 2>/dev/null; done; " + kill
            )
        return f"{kill}; find {WORKDIR} /tmp -mindepth 1 -delete 2>/dev/null; true"

    def _mark_dead(self, c: _Container) -> None:
        if c.dead:
            return
        why = "was removed"
        try:
            attrs = c.client.api.inspect_container(c.id)
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
        c.dead = (
            f"the sandbox container {c.name} {why}; the next reset_workspace starts a new one "
            "(the current episode cannot go on)"
        )
        if c.admin is not None:
            c.admin.close()

    def _check_container_after_eof(self, c: _Container) -> None:
        """A stream ended without its exit status: raise if the container died."""
        self._mark_dead(c)
        if c.dead:
            raise SandboxError(c.dead)

    # -- files -------------------------------------------------------------
    def _upload(self, c: _Container, dest: str, data: bytes, clear: bool) -> None:
        if dest in c.archive:
            if clear:
                self._control(self._scrub_command(c), c)
            docker = _docker()
            try:
                ok = c.client.api.put_archive(c.id, dest, data)
            except docker.errors.NotFound as exc:
                self._mark_dead(c)
                raise SandboxError(c.dead or f"cannot upload to {dest}: {exc}") from exc
            except docker.errors.APIError as exc:
                self._mark_dead(c)
                raise SandboxError(c.dead or f"cannot upload to {dest}: {exc}") from exc
            if not ok:
                raise SandboxError(f"cannot upload files to {dest}")
            return
        # The workspace is a plain tmpfs mount: extract inside the container.
        script = f"{self._scrub_command(c)}; " if clear else ""
        got = self._exec_collect(
            c,
            ["sh", "-c", f'{script}exec tar -x -p -f - -C "$1"', "sh", dest],
            stdin_data=data,
            user="0:0",
        )
        if got.exit_code != 0:
            self._check_container_after_eof(c)
            raise SandboxError(f"cannot upload files to {dest}: {got.text.strip()}")

    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        self._check_open()
        if self._c is not None and self._c.dead:
            self._drop_container()
        for proc in list(self._processes):
            proc._abandon()  # the scrub below kills every process of the sandbox uid
        readonly = {safe_relpath(p) for p in readonly}
        entries: dict[str, tuple[str, bytes | None, int, int]] = {}
        for path, content in files.items():
            rel = safe_relpath(path)
            for parent in _parents(rel):
                entries.setdefault(parent, (parent, None, 0o1777, 0))
            entries[rel] = (rel, bytes(content), 0o444, 0) if rel in readonly else (rel, bytes(content), 0o644, -1)
        for attempt in (0, 1):
            c = self._container()
            data = _tar([(n, b, m, c.uid if u < 0 else u) for n, b, m, u in entries.values()])
            try:
                self._upload(c, WORKDIR, data, clear=True)
                return
            except SandboxError:
                if attempt or not c.dead:
                    raise
                self._drop_container()  # died between episodes: a new one, transparently

    def write_file(self, path: str, content: bytes, readonly: bool = False) -> None:
        c = self._container()
        rel = safe_relpath(path)
        if not readonly and len(content) <= CONTROL_WRITE_MAX and self._write_as_user(c, rel, bytes(content)):
            return
        if readonly:
            self._control(f"rm -rf -- {shlex.quote(WORKDIR + '/' + rel)}", c)  # root's file, never followed
        entry = (rel, bytes(content), 0o444, 0) if readonly else (rel, bytes(content), 0o644, c.uid)
        self._upload(c, WORKDIR, _tar([(p, None, 0o1777, 0) for p in _parents(rel)] + [entry]), clear=False)

    def workspace_digest(self) -> dict[str, str]:
        c = self._container()
        # Each entry's type and path, then each regular file's digest: NUL-separated, whatever the names hold.
        out = self._control(
            f"cd {WORKDIR} && find . -mindepth 1 -printf '%y %P\\0' && printf '\\036\\0' && "
            "find . -mindepth 1 -type f -exec sha256sum -z -- {} +",
            c,
        )
        listing, _, sums = out.partition(b"\x1e\0")
        kinds = {"d": "dir", "l": "link"}
        found: dict[str, str] = {}
        for item in filter(None, listing.split(b"\0")):
            kind, _, path = item.decode("utf-8", "surrogateescape").partition(" ")
            found[path] = kinds.get(kind, "other")
        for item in filter(None, sums.split(b"\0")):
            digest, _, path = item.decode("utf-8", "surrogateescape").partition("  ")
            path = path[2:] if path.startswith("./") else path
            if found.get(path) == "other":
                found[path] = digest
        return found

    def remove_paths(self, paths: Sequence[str]) -> None:
        if paths:
            c = self._container()
            names = " ".join(shlex.quote(f"{WORKDIR}/{safe_relpath(p)}") for p in paths)
            self._control(f"rm -rf -- {names}", c)

    def _write_as_user(self, c: _Container, rel: str, content: bytes) -> bool:
        """Write a small file through the control shell, as the sandbox uid (a round trip, not an upload).

        A fresh file renamed over the old one: a link the program planted is
        replaced, not followed. False where the uid may not (a read-only task
        file, a missing folder): the caller uploads it instead.
        """
        full = f"{WORKDIR}/{rel}"
        tmp = f"{posixpath.dirname(full)}/.gym-pdb-write-{secrets.token_hex(4)}"
        data = base64.b64encode(content).decode()
        script = 'base64 -d > "$1" && mv -f "$1" "$2" || { rm -f "$1"; exit 1; }'  # mode 0644: umask 022
        out = self._control(
            f"printf %s '{data}' | {self._as_user(c)} sh -c {shlex.quote(script)} sh {shlex.quote(tmp)} {shlex.quote(full)}"
            " 2>/dev/null && echo written",
            c,
            check=False,
        )
        return out.strip().endswith(b"written")

    def read_file(self, path: str) -> bytes:
        c = self._container()
        rel = safe_relpath(path)
        full = shlex.quote(f"{WORKDIR}/{rel}" if rel != "." else WORKDIR)
        # One round trip on the control shell (the archive API costs ~50 ms a call);
        # read as the sandbox uid, the status in a 4-byte trailer.
        marker = b"\x1egym-pdb-file "
        out = self._control(
            f"if [ -L {full} ]; then echo 40; elif [ -d {full} ]; then echo 41; elif [ ! -f {full} ]; then echo 42; "
            f"else printf '\\036gym-pdb-file '; {self._as_user(c)} cat -- {full} 2>/dev/null; "
            "printf '\\036%03d' $?; fi",
            c,
        )
        if out.startswith(marker) and len(out) >= len(marker) + 4 and out[-4:-3] == b"\x1e":
            if out[-3:] == b"000":
                return out[len(marker) : -4]
            raise PermissionError(errno.EACCES, "The sandbox user cannot read this file", rel)
        code = out.strip()
        if code == b"41":
            raise IsADirectoryError(errno.EISDIR, "Is a directory", rel)
        if code == b"40":
            raise OSError(errno.ELOOP, "Not a regular file (a link)", rel)
        if code == b"42":
            raise FileNotFoundError(errno.ENOENT, "No such file in the workspace", rel)
        raise SandboxError(f"cannot read {rel}: {out[-200:].decode(errors='replace')}")

    def remove_file(self, path: str) -> None:
        rel = safe_relpath(path)
        c = self._container()
        self._control(f"{self._as_user(c)} rm -f -- {shlex.quote(WORKDIR + '/' + rel)}", c)

    # -- processes ---------------------------------------------------------
    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return sandbox_env(PATH, "/tmp", extra)

    def _start_warm(self, c: _Container) -> None:
        config = zygote_config(c.uid, [], self.info, self._env)  # the container's ulimits hold already
        argv = [self.info.python, f"{SUPPORT_DIR}/zygote.py", "--fifo", WARM_FIFO, config]
        c.warm_ready = False
        try:
            c.warm = self._exec(c, argv, user="0:0", env=self._env(None), stdin=True)
        except SandboxError:
            c.warm = None

    def wait_warm(self, timeout: float) -> bool:
        if not self.forks_python:
            return False
        c = self._container()
        deadline = time.monotonic() + timeout
        while not self._warm_ready(c):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or c.warm is None:
                return False
            c.warm.pump(min(remaining, 0.05))
        return True

    def _warm_ready(self, c: _Container) -> bool:
        """Whether the zygote is up (without waiting); one that died is restarted for later runs."""
        warm = c.warm
        if warm is None:
            return False
        for _ in range(64):
            if warm.eof or not warm.pump(0):
                break
        if warm.eof:
            warm.close()
            self._start_warm(c)
            return False
        if not c.warm_ready and b'"ready"' in warm.pending:
            warm.take()
            c.warm_ready = True
        return c.warm_ready

    def _warm_request(self, c: _Container, argv: list[str], env: dict[str, str]) -> str | None:
        """The zygote's request for ``argv``, if it is up and can run it."""
        if argv[0] not in (self.info.python, "python", "python3") or not forkable(argv[1:], env, self._env(None)):
            return None
        request = json.dumps({"argv": argv[1:], "env": env, "cwd": WORKDIR})
        if len(request) > MAX_WARM_REQUEST or not self._warm_ready(c):
            return None
        return request

    def _start(
        self, argv: Sequence[str], env: Mapping[str, str] | None, stdin: bool, records_key: bytes | None = None
    ) -> tuple[_Container, _ExecStream]:
        argv = [str(a) for a in argv]
        if not argv:
            raise SandboxError("no command to run")
        c = self._container()
        env = self._env(env)
        request = self._warm_request(c, argv, env) if self.forks_python else None
        if records_key is not None:
            return c, self._start_with_records(c, argv, env, request, records_key)
        if request is not None:
            stream = self._exec(c, ["sh", "-c", _CONNECTOR, "sh", request], user="0:0", stdin=stdin, keep_stderr=False)
        else:
            stream = self._exec(c, ["sh", "-c", _WRAPPER, "sh", *argv], env=env, stdin=stdin, keep_stderr=False)
        return c, stream

    def _start_with_records(
        self, c: _Container, argv: list[str], env: dict[str, str], request: str | None, key: bytes
    ) -> _ExecStream:
        """Start a run whose record channel a root process of the container relays: the zygote, or a one-off one.

        The key goes on stdin, never in an argument; the program's stdin is empty.
        """
        if request is not None:
            command, line = ["sh", "-c", _KEYED_CONNECTOR, "sh", request], key.hex()
        else:
            if argv[0] not in (self.info.python, "python", "python3") or not forkable(argv[1:], env, self._env(None)):
                raise SandboxError("a run with a record channel must be `python SCRIPT` or `python -m MODULE`")
            config = zygote_config(c.uid, [], self.info, self._env, prepared=False)
            command = [self.info.python, f"{SUPPORT_DIR}/zygote.py", "--once", config]
            line = f"{key.hex()} {json.dumps({'argv': argv[1:], 'env': env, 'cwd': WORKDIR})}"
        stream = self._exec(c, command, user="0:0", env=self._env(None), stdin=True, keep_stderr=False)
        stream.send(line.encode() + b"\n")
        stream.shutdown_write()
        return stream

    def run(
        self,
        argv: Sequence[str],
        timeout: float,
        env: Mapping[str, str] | None = None,
        output_limit: int | None = None,
        records_key: bytes | None = None,
    ) -> ExecResult:
        start = time.monotonic()
        c, stream = self._start(argv, env, stdin=False, records_key=records_key)
        buf = BoundedBuffer(output_limit or self.limits.output_bytes)
        timed_out = False
        try:
            deadline = start + timeout
            grace_end = None
            while not stream.eof:
                now = time.monotonic()
                if stream.rc is not None:
                    # Exited; a process that left its group may hold the output open.
                    grace_end = grace_end or now + 0.2
                    if now >= grace_end:
                        break
                    stream.pump(grace_end - now)
                elif now >= deadline:
                    timed_out = True
                    break
                else:
                    stream.pump(deadline - now)
                if stream.pending:
                    buf.add(stream.take())
            if timed_out:
                if stream.pid is not None:
                    self._control(f"kill -9 -{stream.pid} {stream.pid} 2>/dev/null", c, check=False)
                end = time.monotonic() + 5
                while not stream.eof and stream.rc is None and time.monotonic() < end:
                    stream.pump(end - time.monotonic())
            if stream.pending:
                buf.add(stream.take())
        finally:
            stream.close()
        if stream.rc is None and not timed_out:
            self._check_container_after_eof(c)
        return ExecResult(
            exit_code=None if timed_out or stream.rc is None else _signal_code(stream.rc),
            output=buf.getvalue(),
            timed_out=timed_out,
            truncated=buf.truncated,
            elapsed=time.monotonic() - start,
            records=bytes(stream.records),
        )

    def spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> DockerProcess:
        c, stream = self._start(argv, env, stdin=True)
        deadline = time.monotonic() + 30
        while stream.pid is None and not stream.eof and time.monotonic() < deadline:
            stream.pump(deadline - time.monotonic())
        if stream.pid is None:
            stream.close()
            self._check_container_after_eof(c)
            raise SandboxError(f"could not start {argv[0]} in the sandbox container")
        proc = DockerProcess(self, stream, c)
        self._processes.add(proc)
        return proc

    # -- life cycle ----------------------------------------------------------
    def _drop_container(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._c = None
        self.info.extra.update(container=None, uid=None)

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for proc in list(self._processes):
            proc._abandon()
        self._drop_container()


def _remove_container(client: Any, cid: str) -> None:
    try:
        client.api.remove_container(cid, v=True, force=True)
    except Exception:  # noqa: BLE001 - already gone, or the daemon is
        pass


def _release(c: _Container) -> None:
    """Remove an owned container; clean and unclaim an attached one. Runs at close, GC and exit."""
    for stream in (c.admin, c.warm):  # their ends close: the control shell and the zygote exit
        if stream is not None:
            stream.close()
    c.admin = c.warm = None
    if not c.attached:
        _remove_container(c.client, c.id)
        for volume in c.volumes:
            try:
                c.client.api.remove_volume(volume, force=True)
            except Exception:  # noqa: BLE001 - removed with the container (the usual case)
                pass
        return
    if c.dead:
        return
    script = (
        "for d in /proc/[0-9]*; do u=$(stat -c %u $d 2>/dev/null) && [ \"$u\" != 0 ] && "
        f"kill -9 ${{d#/proc/}} 2>/dev/null; done; find {WORKDIR} /tmp -mindepth 1 -delete 2>/dev/null; "
        f"rm -rf {CLAIM_DIR} {CLAIM_DIR}.steal"
    )
    try:
        api = c.client.api
        exec_id = api.exec_create(c.id, ["sh", "-c", script], user="0:0")["Id"]
        api.exec_start(exec_id)
    except Exception:  # noqa: BLE001 - best effort: prune frees stale claims
        pass


# ---------------------------------------------------------------------------
# housekeeping


def list_containers(client: Any = None, include_pool: bool = True) -> list[Any]:
    """Containers made by gym-pdb sandboxes (and, with include_pool, pool containers)."""
    client = client or _docker().from_env()
    found = {c.id: c for c in client.containers.list(all=True, filters={"label": LABEL})}
    if include_pool:
        for c in client.containers.list(all=True, filters={"label": POOL_LABEL}):
            found.setdefault(c.id, c)
    return list(found.values())


def prune(all: bool = False, client: Any = None, log: Callable[[str], None] | None = None) -> list[str]:
    """Remove the sandbox containers whose owner process is gone (every one with ``all``).

    Containers of other hosts are kept unless ``all``. Pool containers
    (``gym-pdb.pool``) are not removed: their claims by dead processes (every
    claim with ``all``) are released and their workspaces emptied. Unused
    gym-pdb workspace volumes are removed too. Returns the names acted on.
    """
    docker = _docker()
    client = client or docker.from_env()
    log = log or (lambda msg: None)
    done: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels or {}
        if POOL_LABEL in labels:
            continue
        alive = owner_alive(labels.get(LABEL_OWNER, ""))
        if all or alive is False:
            _remove_container(client, container.id)
            log(f"removed {container.name} (owner {labels.get(LABEL_OWNER, '?')})")
            done.append(container.name)
    for container in client.containers.list(filters={"label": POOL_LABEL, "status": "running"}):
        try:
            script = f"cat {CLAIM_DIR}/owner 2>/dev/null || true"
            exec_id = client.api.exec_create(container.id, ["sh", "-c", script], user="0:0")["Id"]
            owner = client.api.exec_start(exec_id).decode(errors="replace").strip()
        except docker.errors.APIError:
            continue
        if not owner:
            continue  # idle
        if all or owner_alive(owner) is False:
            c = _Container(client, container.id, container.name, 0, attached=True)
            _release(c)
            log(f"released {container.name} (claimed by {owner or '?'})")
            done.append(container.name)
    # Workspace volumes of containers removed without them (a volume in use refuses to go).
    try:
        volumes = client.api.volumes(filters={"label": LABEL}).get("Volumes") or []
    except docker.errors.APIError:
        volumes = []
    for volume in volumes:
        try:
            client.api.remove_volume(volume["Name"])
            log(f"removed volume {volume['Name'][:12]}")
        except docker.errors.APIError:
            pass
    return done


__all__ = ["DEFAULT_IMAGE", "DockerProcess", "DockerSandbox", "LABEL", "POOL_LABEL", "list_containers", "prune"]
