"""The warm interpreter's fork server: a child per request, confined as the sandbox's processes are.

The child takes its own session, resource limits, the sandbox's uid and no
supplementary groups, then runs the program (``pyrun.py``); when it ends, what
is left of its process group is killed. The server itself stays root where the
sandbox has a uid, so task code can neither signal nor trace it.

Requests come from a channel (``channels.py``), and evals may go to a
delegate that holds a prepared pytest session (``prepared_host.py``).
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal
import sys
from typing import Any, Callable, Collection, Iterable, Protocol, Sequence

import pyrun

PR_SET_DUMPABLE = 4
LIBC = ctypes.CDLL(None, use_errno=True)

Request = dict[str, Any]  # {"argv": [...], "env": {...}, "cwd": DIR, "records": bool}
Report = Callable[[int, int], None]  # report(pid, exit code) when a child has ended


class Channel(Protocol):
    """Where requests come from: ``serve`` waits on ``fds`` and calls ``readable`` for each ready one."""

    @property
    def fds(self) -> list[int]: ...

    def readable(self, zygote: Zygote, fd: int) -> bool:
        """Take what is ready on ``fd``; False when the channel has closed."""
        ...


class Delegate(Protocol):
    """A process that forks some requests for the zygote (the prepared eval), and reports them."""

    pid: int
    fds: list[int]

    def readable(self) -> bool: ...

    def accepts(self, request: Request) -> bool: ...

    def start(self, request: Request, fds: Sequence[int], report: Report) -> int: ...

    def stop(self) -> None: ...


class Unwind(BaseException):
    """Raised in a fork of the prepared eval process, to leave the zygote's frames for pytest's."""

    def __init__(self, value: list[str]):
        super().__init__()
        self.value = value


class Zygote:
    prepared: Delegate | None = None  # when the sandbox's eval command is prepared

    def __init__(self, config: dict[str, Any]):
        self.uid: int | None = config.get("uid")
        self.rlimits = [(getattr(resource, "RLIMIT_" + name.upper()), int(value)) for name, value in config.get("rlimits", [])]
        self.base_path = sys.path[1:]
        self.compiled: pyrun.Compiled = {}  # support scripts' code (pyrun.compile_support_scripts)
        self.children: dict[int, Report] = {}
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def serve(self, channel: Channel) -> None:
        """Take requests from ``channel`` until it closes."""
        while True:
            prepared = self.prepared
            prepared_fds = prepared.fds if prepared is not None else []
            ready, _, _ = select.select([self.wake_r, *channel.fds, *prepared_fds], [], [])
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
                self.reap()
            if prepared is not None and prepared_fds and prepared_fds[0] in ready and not prepared.readable():
                self.drop_prepared()
            for fd in ready:
                if fd in channel.fds and not channel.readable(self, fd):
                    return
            if getattr(channel, "done", False):
                return

    def drop_prepared(self) -> None:
        """Stop using the prepared eval (it is gone or failed): evals are forked from here."""
        if self.prepared is not None:
            self.prepared.stop()
            self.prepared = None

    def stop(self) -> None:
        """Kill every child's process group, and report them (the host is gone)."""
        self.drop_prepared()
        for pid in list(self.children):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, report in list(self.children.items()):
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            del self.children[pid]
            report(pid, os.waitstatus_to_exitcode(status))

    def reap(self) -> None:
        """Report the children that have ended, and kill what they left in their process group."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            report = self.children.pop(pid, None)
            if report is not None:
                report(pid, os.waitstatus_to_exitcode(status))

    def start(self, request: Request, fds: Sequence[int], report: Report) -> int:
        """Start ``request``'s program on ``fds`` (its stdout, record channel and stdin, as given); returns its pid.

        ``report(pid, code)`` when it ends. The fds are closed here once the child has them.
        """
        stdout, records, stdin = streams(request, fds)
        prepared = self.prepared
        if prepared is not None and prepared.accepts(request):
            try:
                pid = prepared.start(request, fds[:3], report)
            except OSError:
                self.drop_prepared()
            else:
                for fd in fds:
                    os.close(fd)
                return pid
        return self.fork(lambda: self.program(request, stdout, stdin, records), fds, report)

    def fork(self, run: Callable[[], int], fds: Iterable[int], report: Report) -> int:
        """Fork a child that runs ``run()`` (it returns the exit code); ``report(pid, code)`` when it ends.

        ``fds`` (the child's streams) are closed here once the child has them. A
        ``run`` that raises ``Unwind`` leaves the child in the caller's frames.
        """
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = run()
            except Unwind:
                raise
            except BaseException:
                pass
            os._exit(code)
        for fd in fds:
            os.close(fd)
        self.children[pid] = report
        return pid

    def kill_all(self) -> bool:
        """SIGKILL every process of the sandbox's uid (twice: forks in between go too).

        In place, not in a child: for the two ``kill(-1)`` the real and effective
        uid are the sandbox's, so the kernel lets them reach its processes only
        (and takes the effective capabilities away meanwhile); the saved uid
        stays root, to come back.
        """
        if self.uid is None:
            return False
        os.setresuid(self.uid, self.uid, 0)
        try:
            if os.getresuid() != (self.uid, self.uid, 0):
                return False
            for _ in range(2):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        finally:
            os.setresuid(0, 0, 0)
        return True

    # -- in the child ------------------------------------------------------
    def program(self, request: Request, stdout: int, stdin: int | None, records: int | None = None) -> int:
        try:
            self.confine(request, stdout, stdin, records)
        except BaseException as exc:
            os.write(2, ("gym-pdb: could not start the program: %r\n" % (exc,)).encode())
            return 126
        pyrun.reseed()
        return self.run(request)

    def run(self, request: Request) -> int:
        """Run the request's program in this confined child; returns its exit code."""
        return pyrun.run_program(request["argv"], self.base_path, self.compiled)

    def confine(
        self, request: Request, stdout: int, stdin: int | None, records: int | None = None, keep: Collection[int] = ()
    ) -> None:
        """Make this child the sandbox's process for ``request``; fds in ``keep`` and ``records`` stay open."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        if stdin is None:
            stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stdout, 2)
        close_fds({*keep, *([records] if records is not None else [])})
        for limit, value in self.rlimits:
            resource.setrlimit(limit, (value, value))
        if self.uid is not None:
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)
            # Changing uid made the process undumpable (its /proc entries root's); exec would undo that.
            LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.chdir(request["cwd"])
        pyrun.set_environ(request["env"])
        if records is not None:
            from records import FD_VARIABLE

            os.environ[FD_VARIABLE] = str(records)
        pyrun.standard_streams()


def streams(request: Request, fds: Sequence[int]) -> tuple[int, int | None, int | None]:
    """(stdout, record channel or None, stdin or None) of a request's fds."""
    stdout, rest = fds[0], list(fds[1:])
    records = rest.pop(0) if request.get("records") and rest else None
    return stdout, records, (rest[0] if rest else None)


def open_fds() -> set[int]:
    """This process's fds from 3 up."""
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue  # the listing's own
        fds.add(int(name))
    return {fd for fd in fds if fd > 2}


def close_fds(keep: Iterable[int] = ()) -> None:
    """Close every fd from 3 up but those in ``keep``."""
    start = 3
    for fd in sorted(fd for fd in keep if fd >= 3):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
