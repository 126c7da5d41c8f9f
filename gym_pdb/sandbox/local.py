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

The sandbox's parts: ``local_confine.py`` (the confinement of a process it
starts), ``local_process.py`` (its processes), ``local_files.py`` (its
workspace from the host), ``local_housekeeping.py`` (its uid and folder after
it, and ``prune``).
"""

from __future__ import annotations

import errno
import os
import random
import selectors
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
import weakref
from typing import Mapping, Sequence, cast

from gym_pdb.sandbox.base import BoundedBuffer, ExecResult, Limits, Sandbox, SandboxError, SandboxInfo, sandbox_env
from gym_pdb.sandbox.bwrap import PROGRAM_CAPS, ZYGOTE_CAPS, BwrapChild, bwrap_args, interpreter_folders, with_parent_death
from gym_pdb.sandbox.local_confine import (
    can_unshare_network_as_user,
    choose_confinement,
    confinement_prefix,
    default_python,
    network_prefix,
    reachable_by_others,
    rlimits,
)
from gym_pdb.sandbox.local_files import LocalWorkspace, empty
from gym_pdb.sandbox.local_housekeeping import OWNER_FILE, ROOT_PREFIX, UID_RANGE, cleanup, kill_uid
from gym_pdb.sandbox.local_process import Child, LocalProcess, kill_group, read_available
from gym_pdb.sandbox.owner import owner_token
from gym_pdb.sandbox.support import support_files
from gym_pdb.sandbox.support.records import FD_VARIABLE
from gym_pdb.sandbox.warm import ForkedChild, WarmPython, forkable, zygote_config


class LocalSandbox(LocalWorkspace, Sandbox):
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
            cut_network = not self.limits.network and (bwrap or is_root or can_unshare_network_as_user())
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
            self._prefix[0] = shutil.which(self._prefix[0]) or self._prefix[0]  # on PATH: checked above
        self.info = SandboxInfo(
            workdir=self.workdir,
            support_dir=self.support_dir,
            python=self.python,
            extra={"backend": "local", "uid": self.uid, "network_cut": self.cut_network, "confinement": self.confinement},
        )
        self._processes: set[LocalProcess] = set()
        self._closed = False
        self._warm_slot: list[WarmPython | None] = [None]
        self._finalizer = weakref.finalize(self, cleanup, self.root, self.uid, self._processes, self._warm_slot)
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

    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        self._check_open()
        for proc in list(self._processes):
            proc.kill()
        if self.uid is not None:
            self._kill_all()
        for base in (self.workdir, self.tmpdir):
            empty(base)
        self._make_private_dirs()
        protected = set(readonly)
        for path, content in files.items():
            self._write(path, content, readonly=path in protected)

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
        if self.uid is not None:
            kill_uid(self.uid)

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

    def _start(
        self, argv: Sequence[str], env: Mapping[str, str] | None, interactive: bool, records: int | None = None
    ) -> tuple[Child, int, int | None]:
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
        child: Child
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
    ) -> subprocess.Popen[bytes] | BwrapChild:
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
                    chunk = read_available(cast("int | socket.socket", key.fileobj))
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
            while chunk := read_available(channel):
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
        assert stdin is not None  # interactive: it has a pipe
        proc = LocalProcess(child, stdin, stdout, on_kill=self._processes.discard)
        self._processes.add(proc)
        return proc

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finalizer()
