"""The zygote's side of the prepared eval: a helper process that holds a pytest session and forks the evals.

Configuring pytest and starting its session is half of a short eval, and
every eval of a sandbox runs the same command but for its per-run arguments.
So a helper forked from the zygote (``run_prepared_eval``) does both once and
waits at the start of collection (``prepared_eval.py``, pytest's side); the
zygote sends it each eval request (``PreparedEval``), it forks a child that
confines itself as any child of the zygote (``PreparedEvalZygote``) and goes
on with the session, and the zygote relays the child's pid and exit code.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
import time
from typing import Any, Callable, Collection, Sequence

import pyrun
from channels import MAX_MESSAGE, HostSocket
from forkserver import Report, Request, Unwind, Zygote, close_fds, open_fds

PREPARE_TIMEOUT = 30.0


class PreparedEval:
    """The zygote's prepared eval process (``run_prepared_eval``), and the runs it forked for the zygote.

    ``spec`` is the sandbox's eval command without the per-run arguments:
    ``{"argv": ["-m", "pytest", ...], "env": {...}, "cwd": DIR}``. A request
    that is this command plus per-run arguments goes to the prepared process,
    which forks the run and reports its pid and exit code over a socket (the
    protocol of ``HostSocket``).
    """

    def __init__(self, config: dict[str, Any], spec: Request):
        from eval_plugin import parse_run_args

        self.parse_run_args = parse_run_args
        self.spec = spec
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ours.close()
                code = run_prepared_eval(config, spec, theirs.detach())
            except BaseException:
                pass
            os._exit(code)  # the prepared process on failure, or one of its runs at its end
        theirs.close()
        self.pid, self.sock = pid, ours
        self.fds = [ours.fileno()]
        self.ready = False
        self.runs: dict[int, Report] = {}

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select(self.fds, [], [], remaining)[0] or not self.readable():
                return False
        return True

    def accepts(self, request: Request) -> bool:
        argv, prefix = request.get("argv") or [], self.spec["argv"]
        return (
            self.ready
            and argv[: len(prefix)] == prefix
            and request.get("env") == self.spec["env"]
            and request.get("cwd") == self.spec["cwd"]
            and self.parse_run_args(argv[len(prefix) :]) is not None
        )

    def start(self, request: Request, fds: Sequence[int], report: Report) -> int:
        """Have the prepared process fork a run of ``request`` on ``fds``; returns the run's pid."""
        socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
        while True:
            if not select.select(self.fds, [], [], 10)[0]:
                raise OSError("the prepared eval did not answer")
            message = self.receive()
            if message is None or "error" in message:
                raise OSError("the prepared eval could not fork: %s" % (message or {}).get("error", "it is gone"))
            if "pid" in message:
                pid: int = message["pid"]
                self.runs[pid] = report
                return pid
            self.handle(message)

    def readable(self) -> bool:
        """Take one message from the prepared process; False when it is gone or failed."""
        message = self.receive()
        return message is not None and self.handle(message)

    def receive(self) -> dict[str, Any] | None:
        try:
            data = self.sock.recv(MAX_MESSAGE)
        except OSError:
            return None
        return json.loads(data) if data else None

    def handle(self, message: dict[str, Any]) -> bool:
        if "ready" in message:
            self.ready = True
        elif "exit" in message:
            report = self.runs.pop(message["exit"], None)
            if report is not None:
                report(message["exit"], message["code"])
        elif "failed" in message:
            pyrun.write(2, "gym-pdb: the prepared eval failed: %s\n" % message["failed"])
            return False
        return True

    def stop(self) -> None:
        """End the prepared process and its runs (reported as killed)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        for pid, report in list(self.runs.items()):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            report(pid, -signal.SIGKILL)
        self.runs.clear()
        self.sock.close()


class PreparedEvalZygote(Zygote):
    """The prepared eval process's forking: each child goes on with the held pytest session."""

    def __init__(
        self,
        config: dict[str, Any],
        session: Any,
        detach: Callable[[Any], None],
        prefix: int,
        keep: Collection[int],
        path_len: int,
    ):
        super().__init__(config)
        self.session = session
        self.detach = detach  # prepared_eval.detach
        self.prefix = prefix  # the number of arguments every eval shares
        self.keep = keep  # pytest's fds
        self.path_len = path_len  # sys.path's length before pytest's own additions
        self.environ = dict(os.environ)  # the run's, with what pytest set (PYTEST_VERSION)

    def confine(
        self, request: Request, stdout: int, stdin: int | None, records: int | None = None, keep: Collection[int] = ()
    ) -> None:
        self.detach(self.session)  # before the streams change
        super().confine(request, stdout, stdin, records, keep=self.keep)
        os.environ.update({k: v for k, v in self.environ.items() if k not in os.environ})
        if not os.environ.get("PYTHONSAFEPATH"):
            sys.path.insert(len(sys.path) - self.path_len, os.getcwd())  # where `python -m` puts it

    def run(self, request: Request) -> int:
        gc.enable()
        raise Unwind(request["argv"][self.prefix :])


def run_prepared_eval(config: dict[str, Any], spec: Request, fd: int) -> int:
    """The prepared eval process, forked from the zygote: see ``prepared_eval.py``.

    It talks to the zygote over the socket ``fd``. It returns only in its
    forks, when their pytest run is over, with their exit code.
    """
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    close_fds([fd])
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    pyrun.standard_streams()
    channel = HostSocket(fd)  # referenced from this frame until the forks exit: no close by the collector
    try:
        pyrun.set_environ(spec["env"])
        os.chdir(spec["cwd"])
        sys.path[:] = [*pyrun.pythonpath(), *sys.path[1:]]  # not the workspace: this process is root
        import prepared_eval
        import pytest
    except Exception as exc:
        channel.send({"failed": repr(exc)})
        return 1
    args = spec["argv"][2:]
    sys.argv = [os.path.join(os.path.dirname(pytest.__file__), "__main__.py"), *args]
    path_len = len(sys.path)

    def serve(session: Any) -> list[str] | None:
        keep = open_fds() - {fd}
        zygote = PreparedEvalZygote(config, session, prepared_eval.detach, len(spec["argv"]), keep, path_len)
        gc.collect()
        gc.freeze()
        channel.send({"ready": True})
        try:
            zygote.serve(channel)
        except Unwind as unwind:
            return unwind.value
        zygote.stop()
        return None

    hold = prepared_eval.Hold(serve)
    code = pytest.main(args, plugins=[hold])
    if not hold.resumed:
        channel.send({"failed": "pytest ended before its collection, exit code %d" % int(code)})
        return 1
    return pyrun.finish(pyrun.exit_code(int(code)))


def start_prepared_eval(config: dict[str, Any]) -> PreparedEval | None:
    """The prepared eval of ``config["prepared_eval"]``, once it is ready; None without one."""
    spec = config.get("prepared_eval")
    if not spec:
        return None
    try:
        prepared = PreparedEval(config, spec)
    except (ImportError, OSError):
        return None
    if not prepared.wait_ready(PREPARE_TIMEOUT):
        prepared.stop()
        return None
    return prepared
