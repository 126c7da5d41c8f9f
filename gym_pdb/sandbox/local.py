"""The local sandbox: task code as subprocesses of this machine.

Each sandbox owns a private folder holding the workspace, a scratch dir and the
support scripts. Every process it starts gets resource limits (CPU time,
address space, file size, process count, open files), a scrubbed environment
and its own process group. Where bubblewrap runs (``bwrap.py``), it also gets
namespaces: the host read-only but the workspace and scratch dir, a private
/tmp, its own PID namespace, no network; elsewhere ("basic" confinement), only
an empty network namespace where the OS allows. When this process runs as
root, sandboxed processes run as a fresh unprivileged uid of their own, so
that the process-count limit holds, the tests and support scripts cannot be
changed, and ``close()`` can kill every process the sandbox ever started, even
those that left their process group.

With bubblewrap this confines a program to its workspace, but the kernel it
shares with the host is still a large attack surface: the Docker sandbox is
the stronger boundary. The basic confinement is isolation against accidents
and runaway programs (infinite loops, fork and memory bombs, huge output), not
a security boundary.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from typing import Mapping, Sequence

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
from gym_pdb.sandbox.bwrap import (
    PROGRAM_CAPS,
    ZYGOTE_CAPS,
    BwrapChild,
    bwrap_args,
    bwrap_problem,
    interpreter_folders,
    with_parent_death,
)
from gym_pdb.sandbox.owner import owner_alive, owner_token
from gym_pdb.sandbox.support import support_files
from gym_pdb.sandbox.support.records import FD_VARIABLE
from gym_pdb.sandbox.warm import ForkedChild, WarmPython, forkable, zygote_config

UID_RANGE = (200_000, 2_000_000_000)
ROOT_PREFIX = "gym-pdb-"
OWNER_FILE = "owner"
READ_CHUNK = 65536


def default_python() -> str:
    return os.environ.get("GYM_PDB_PYTHON") or sys.executable


def reachable_by_others(path: str) -> bool:
    """Whether a user with no rights of its own can execute ``path``."""
    for candidate in {os.path.abspath(path), os.path.realpath(path)}:
        if not os.path.exists(candidate):
            return False
        parent = os.path.dirname(candidate)
        while True:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            if parent == "/":
                break
            parent = os.path.dirname(parent)
        if not os.stat(candidate).st_mode & stat.S_IXOTH:
            return False
    return True


def rlimits(limits: Limits) -> list[tuple[str, int]]:
    """The resource limits of every sandboxed process, as (prlimit/RLIMIT_ name, value)."""
    values = [
        ("cpu", limits.cpu_seconds),
        ("as", limits.memory_bytes),
        ("fsize", limits.file_size_bytes),
        ("nproc", limits.processes),
        ("nofile", limits.open_files),
    ]
    return [(name, value) for name, value in values if value] + [("core", 0)]


def network_prefix(uid: int | None, cut_network: bool) -> list[str]:
    """The ``unshare`` command that gives what follows it an empty network namespace."""
    if not cut_network:
        return []
    if uid is not None or os.geteuid() == 0:
        return ["unshare", "--net", "--"]
    return ["unshare", "--user", "--map-current-user", "--net", "--"]


def confinement_prefix(limits: Limits, uid: int | None, cut_network: bool) -> list[str]:
    """The util-linux commands that confine what follows them, each exec'ing the next.

    ``unshare`` gives an empty network namespace (bubblewrap's own, where it
    runs first: then ``cut_network`` is False here), ``setpriv`` the sandbox's
    uid, ``prlimit`` the resource limits. Doing this with exec'd programs
    rather than Python code between fork and exec keeps process creation safe
    in threaded hosts (a trainer stepping many envs at once) and lets
    ``subprocess`` use vfork, which stays fast for a host with a large heap.
    """
    prefix = network_prefix(uid, cut_network)
    if uid is not None:
        prefix += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
    prefix += ["prlimit", *(f"--{name}={value}" for name, value in rlimits(limits)), "--"]
    return prefix


_warned_basic = False


def choose_confinement(confine: str | None) -> str:
    """"bwrap" or "basic" for ``confine`` (None: bwrap where it runs, else basic with one warning)."""
    global _warned_basic
    if confine not in (None, "bwrap", "basic"):
        raise ValueError(f"confine must be 'bwrap', 'basic' or None, not {confine!r}")
    if confine == "basic":
        return confine
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if confine == "bwrap":
        raise SandboxError(f"confine='bwrap': {problem}")
    if not _warned_basic:
        _warned_basic = True
        warnings.warn(
            f"gym_pdb: {problem}, so the local sandbox confines only with resource limits, a uid of its own "
            "(as root) and an empty network namespace: task code sees every process of the machine and may write "
            "wherever its uid may (/tmp, /var/tmp). Install bubblewrap (apt-get install bubblewrap) and allow "
            "unprivileged user namespaces (or run as root), or use the docker sandbox.",
            RuntimeWarning,
            stacklevel=3,
        )
    return "basic"


def _can_unshare_network_as_user() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "--user", "--map-current-user", "--net", "--", "true"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read(stream: int | socket.socket) -> bytes | None:
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

    def __init__(self, child, stdin: int, stdout: int, on_kill=None):
        self._child = child
        self._stdin, self._fd = stdin, stdout
        os.set_blocking(stdout, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._eof = False
        self._on_kill = on_kill

    @property
    def pid(self) -> int:
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


def _cleanup(root: str, uid: int | None, processes: set, warm_slot: list) -> None:
    for proc in list(processes):
        proc.kill()
    if warm_slot[0] is not None:
        warm_slot[0].close()
    if uid is not None:
        _kill_uid(uid, wait=2.0)
    shutil.rmtree(root, ignore_errors=True)


def _empty(folder: str) -> None:
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


def uid_processes(uid: int) -> list[int]:
    """Pids of the live processes of ``uid`` (zombies, already dead, are not counted)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").split()[:1] != ["Z"] and int(fields.get("Uid", "-1").split()[0]) == uid:
            pids.append(int(entry))
    return pids


def _kill_uid(uid: int, wait: float = 0.0) -> None:
    """SIGKILL every process of ``uid``: ``kill -1`` run as that uid.

    Done twice, so that processes forked while the first kill ran go too; then,
    with ``wait``, up to that many seconds for the killed to be gone.
    """
    for _ in range(2):
        subprocess.run(
            ["kill", "-9", "-1"],
            user=uid,
            group=uid,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + wait
    while wait and uid_processes(uid) and time.monotonic() < deadline:
        time.sleep(0.01)


def prune(all: bool = False, tmpdir: str | None = None, log=None) -> list[str]:
    """Remove the folders (and kill the processes) of local sandboxes whose owner is gone.

    A process killed with SIGKILL cannot clean up after itself; this can. With
    ``all``, every local sandbox of this machine goes. Returns the folders removed.
    """
    removed = []
    base = tmpdir or tempfile.gettempdir()
    for name in sorted(os.listdir(base)):
        root = os.path.join(base, name)
        if not name.startswith(ROOT_PREFIX) or not os.path.isfile(os.path.join(root, OWNER_FILE)):
            continue
        with open(os.path.join(root, OWNER_FILE)) as f:
            token, _, uid = f.read().strip().partition(" ")
        if not all and owner_alive(token) is not False:
            continue
        if uid.isdigit() and os.geteuid() == 0:
            _kill_uid(int(uid), wait=2.0)
        shutil.rmtree(root, ignore_errors=True)
        removed.append(root)
        if log:
            log(f"removed {root}")
    return removed


class LocalSandbox(Sandbox):
    """Runs task code as limited subprocesses in a private folder of this machine.

    Args:
        limits: resource limits for every process.
        python: the interpreter for task code (``GYM_PDB_PYTHON``, else this one).
        drop_privileges: when root, run task code as a fresh unprivileged uid
            (default: when root and the interpreter is reachable by such a uid).
        cut_network: give each process an empty network namespace, where the OS allows.
        confine: "bwrap" (namespaces: see ``bwrap.py``; an error where it cannot
            run), "basic" (limits, uid and network only), or None: bwrap where it
            runs, else basic with a warning. ``info.extra["confinement"]`` says which.
        warm: run ``python SCRIPT`` and ``python -m MODULE`` by forking a warm
            interpreter (pytest and pdb imported) instead of starting one; see
            ``support/zygote.py``.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        python: str | None = None,
        drop_privileges: bool | None = None,
        cut_network: bool | None = None,
        confine: str | None = None,
        warm: bool = True,
    ):
        self.limits = limits or Limits()
        self.python = python or default_python()
        is_root = os.geteuid() == 0
        if drop_privileges is None:
            drop_privileges = is_root and reachable_by_others(self.python)
            if is_root and not drop_privileges:
                warnings.warn(
                    f"gym_pdb: running as root, but the sandbox interpreter {self.python} is not reachable "
                    "by an unprivileged user, so task code runs as root and the process-count limit does "
                    "not hold. Use an interpreter outside /root (a venv of /usr/bin/python3, or "
                    "GYM_PDB_PYTHON), or the docker sandbox.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        if drop_privileges and not is_root:
            raise SandboxError("drop_privileges needs root")
        missing = [tool for tool in ("unshare", "setpriv", "prlimit", "kill", "setsid") if shutil.which(tool) is None]
        if missing:
            raise SandboxError(f"the local sandbox needs util-linux's {', '.join(missing)} on PATH")
        self.uid = random.SystemRandom().randrange(*UID_RANGE) if drop_privileges else None
        self.confinement = choose_confinement(confine)
        bwrap = self.confinement == "bwrap"
        if cut_network is None:
            cut_network = not self.limits.network and (bwrap or is_root or _can_unshare_network_as_user())
        self.cut_network = cut_network

        self.root = tempfile.mkdtemp(prefix=ROOT_PREFIX)
        os.chmod(self.root, 0o711)
        with open(os.path.join(self.root, OWNER_FILE), "w") as f:
            f.write(f"{owner_token()} {self.uid if self.uid is not None else '-'}\n")
        self.workdir = os.path.join(self.root, "workspace")
        self.support_dir = os.path.join(self.root, "support")
        self.tmpdir = os.path.join(self.root, "tmp")
        os.mkdir(self.support_dir, 0o755)
        for name, content in support_files().items():
            path = os.path.join(self.support_dir, name)
            with open(path, "wb") as f:
                f.write(content)
            os.chmod(path, 0o644)
        self._make_private_dirs()
        if bwrap:
            # setsid: the program leads its session, as a fork of the warm interpreter does (below bwrap's init)
            caps = PROGRAM_CAPS if self.uid is not None else ()
            chain = confinement_prefix(self.limits, self.uid, False)
            self._prefix = [*self._bwrap_args(caps), "--", "setsid", "--", *chain]
        else:
            self._prefix = confinement_prefix(self.limits, self.uid, self.cut_network)
            self._prefix[0] = shutil.which(self._prefix[0])
        self.info = SandboxInfo(
            workdir=self.workdir,
            support_dir=self.support_dir,
            python=self.python,
            extra={"backend": "local", "uid": self.uid, "network_cut": self.cut_network, "confinement": self.confinement},
        )
        self._processes: set[LocalProcess] = set()
        self._closed = False
        self._warm_slot: list[WarmPython | None] = [None]
        self._finalizer = weakref.finalize(self, _cleanup, self.root, self.uid, self._processes, self._warm_slot)
        self.forks_python = warm
        if warm:
            self._warm = self._start_warm()

    @property
    def _warm(self) -> WarmPython | None:
        return self._warm_slot[0]

    @_warm.setter
    def _warm(self, value: WarmPython | None) -> None:
        self._warm_slot[0] = value

    def _bwrap_args(self, caps: Sequence[str], support_writable: bool = False) -> list[str]:
        """bwrap's options for this sandbox's processes; ``caps`` are kept when root."""
        writable = [self.workdir, self.tmpdir] + ([self.support_dir] if support_writable else [])
        readonly = interpreter_folders(self.python) + ([] if support_writable else [self.support_dir])
        return bwrap_args(writable, readonly, network=not self.cut_network, caps=caps if os.geteuid() == 0 else None)

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

    # -- files -------------------------------------------------------------
    def _host_path(self, path: str) -> str:
        return os.path.join(self.workdir, safe_relpath(path))

    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        self._check_open()
        for proc in list(self._processes):
            proc.kill()
        if self.uid is not None:
            self._kill_all()
        for base in (self.workdir, self.tmpdir):
            _empty(base)
        self._make_private_dirs()
        readonly = set(readonly)
        for path, content in files.items():
            self._write(path, content, readonly=path in readonly)

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
                        found[path] = _sha256(entry.path)
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

    # -- processes ---------------------------------------------------------
    def _kill_all(self) -> None:
        """Kill every process of the sandbox's uid: through the warm interpreter when it is up."""
        warm = self._warm
        if warm is not None and warm.alive() and warm.ready(0):
            try:
                if warm.kill_all():
                    return
            except SandboxError:
                pass
        _kill_uid(self.uid)

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        path = os.pathsep.join([os.path.dirname(self.python), "/usr/local/bin", "/usr/bin", "/bin"])
        return sandbox_env(path, self.tmpdir, extra)

    def _start_warm(self) -> WarmPython | None:
        env = self._env(None)
        env["TMPDIR"] = env["HOME"] = self.root  # its own scratch: the workspace and tmp are reset under it
        if self.confinement == "bwrap":
            # As root it may write its bytecode into root's support dir, which the sandbox's uid may not.
            caps, as_root = (ZYGOTE_CAPS, True) if self.uid is not None else ((), False)
            prefix = [*with_parent_death(self._bwrap_args(caps, support_writable=as_root)), "--"]
        else:
            prefix = network_prefix(self.uid, self.cut_network)
        argv = [*prefix, self.python, os.path.join(self.support_dir, "zygote.py")]
        try:
            config = zygote_config(self.uid, rlimits(self.limits), self.info, self._env)
            return WarmPython(argv, env, cwd=self.support_dir, config=config)
        except SandboxError:
            return None

    def wait_warm(self, timeout: float) -> bool:
        return self.forks_python and self._warm is not None and self._warm.ready(timeout)

    def _warm_for(self, argv: list[str], env: dict[str, str]) -> WarmPython | None:
        """The warm interpreter, if it is up and can run ``argv``."""
        warm = self._warm
        if warm is None or argv[0] != self.python or not forkable(argv[1:], env, warm.env):
            return None
        if not warm.alive():
            warm.close()
            self._warm = self._start_warm()  # for the next run; this one starts cold
            return None
        return warm if warm.ready(0) else None

    def _start(self, argv: Sequence[str], env: Mapping[str, str] | None, interactive: bool, records: int | None = None):
        """Start ``argv`` in the workspace; returns (child, its stdout's read end, its stdin's write end).

        ``records``: the child's end of its record channel.
        """
        self._check_open()
        argv = list(argv)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self.python
        env = self._env(env)
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe() if interactive else (None, None)
        try:
            warm = self._warm_for(argv, env)
            if warm is not None:
                try:
                    child = ForkedChild(warm, *warm.fork(argv[1:], env, self.workdir, out_w, in_r, records))
                except SandboxError:
                    warm = None
            if warm is None:
                if records is not None:
                    env[FD_VARIABLE] = str(records)
                child = self._popen(argv, env, out_w, in_r, records)
        except BaseException:
            for fd in (out_r, in_w):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            for fd in (out_w, in_r):
                if fd is not None:
                    os.close(fd)
        return child, out_r, in_w

    def _popen(
        self, argv: list[str], env: dict[str, str], stdout: int, stdin: int | None, records: int | None = None
    ) -> subprocess.Popen | BwrapChild:
        bwrap = self.confinement == "bwrap"
        argv = (with_parent_death(self._prefix) if bwrap else self._prefix) + argv
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL if stdin is None else stdin,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                start_new_session=True,
                close_fds=True,
                pass_fds=() if records is None else (records,),
            )
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ENOMEM):
                raise SandboxError(f"could not start {argv[0]}: {exc.strerror} (sandbox limits reached)") from exc
            raise SandboxError(f"could not start {argv[0]}: {exc}") from exc
        except subprocess.SubprocessError as exc:
            raise SandboxError(f"could not start {argv[0]}: {exc}") from exc
        return BwrapChild(popen) if bwrap else popen

    def run(
        self,
        argv: Sequence[str],
        timeout: float,
        env: Mapping[str, str] | None = None,
        output_limit: int | None = None,
        records_key: bytes | None = None,
    ) -> ExecResult:
        start = time.monotonic()
        channel = theirs = None
        if records_key is not None:
            channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            channel.sendall(records_key)
            channel.setblocking(False)
        try:
            child, fd, _ = self._start(argv, env, interactive=False, records=theirs.fileno() if theirs else None)
        except BaseException:
            if channel is not None:
                channel.close()
            raise
        finally:
            if theirs is not None:
                theirs.close()
        buf = BoundedBuffer(output_limit or self.limits.output_bytes)
        received = bytearray()
        timed_out = False
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ, buf.add)
            if channel is not None:
                sel.register(channel, selectors.EVENT_READ, received.extend)
            deadline = start + timeout
            while sel.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = child.poll() is None
                    break
                events = sel.select(min(remaining, 0.5))
                for key, _ in events:
                    chunk = _read(key.fileobj)
                    if chunk:
                        key.data(chunk)
                    elif chunk is not None:
                        sel.unregister(key.fileobj)
                if not events and child.poll() is not None:
                    break  # exited, but a stray child holds a stream open
        kill_group(child.pid)
        os.close(fd)
        code = child.wait()
        if channel is not None:
            while chunk := _read(channel):
                received.extend(chunk)
            channel.close()
        return ExecResult(
            exit_code=None if timed_out else code,
            output=buf.getvalue(),
            timed_out=timed_out,
            truncated=buf.truncated,
            elapsed=time.monotonic() - start,
            records=bytes(received),
        )

    def spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> LocalProcess:
        child, stdout, stdin = self._start(argv, env, interactive=True)
        proc = LocalProcess(child, stdin, stdout, on_kill=self._processes.discard)
        self._processes.add(proc)
        return proc

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finalizer()
