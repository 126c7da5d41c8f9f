"""A warm Python for a sandbox: forks a ready interpreter for each ``python ARGS``.

    python zygote.py FD CONFIG_JSON            (local sandbox: FD is a unix socket)
    python zygote.py --fifo PATH CONFIG_JSON   (docker sandbox: requests come through a FIFO)

Starting Python and importing pytest and pdb (and numpy) costs more than most
tests take to run. This process does it once, with a pytest warm-up run, then forks a
child for each request. The child confines itself as the sandbox's other
processes are (its own session, resource limits, the sandbox's uid, no
supplementary groups) before it runs the program as ``python ARGS`` would:
``sys.argv``, ``sys.path``, the environment and the standard streams are the
program's own, and its exit code is what the interpreter's would be. When it
ends, what is left of its process group is killed.

A request is ``{"argv": [SCRIPT | "-m", MODULE, ARG...], "env": {...}, "cwd": DIR}``.

- Socket (SOCK_SEQPACKET): the request comes with the child's stdout (and
  stdin, if any) as file descriptors; the reply is ``{"pid": N}``, and when
  the child ends ``{"exit": N, "code": C}`` (C negative for a signal, as with
  subprocess). ``{"kill_all": true}`` kills every process of the sandbox's uid
  (reply ``{"killed": true}``).
  The zygote exits when the socket closes.
- FIFO: one line ``CONNECTOR_PID REQUEST``, written by a connector process (a
  ``docker exec``, with copies of its stdin, stdout and stderr on fds 5, 6,
  7); the child gets the connector's stdin and stdout, and the
  connector's stderr gets the lines ``\x1egym-pdb pid N`` and, when the child
  ends, ``\x1egym-pdb rc C`` (128+N for signal N, as from sh); then the
  connector is killed, which ends the exec. The zygote exits when its stdin closes.

CONFIG_JSON: {"uid": N or null, "rlimits": [[NAME, VALUE], ...]}. When the
sandbox has a uid this process is root and its children drop to the uid, so
task code can neither signal nor trace it, nor reach its socket or FIFO: it
serves every episode of the sandbox.
"""

import atexit
import ctypes
import gc
import io
import json
import linecache
import os
import resource
import runpy
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback

MAX_FDS = 4
MAX_MESSAGE = 1 << 20
PR_SET_DUMPABLE = 4
CONNECTOR_STREAMS = ((5, os.O_RDONLY), (6, os.O_WRONLY), (7, os.O_WRONLY))  # its stdin, stdout, stderr
BASE_ENV = dict(os.environ)  # what the sandbox gives every process; a request's env goes on top
LIBC = ctypes.CDLL(None, use_errno=True)
WARMUP_TEST = """
def helper(value):
    return value + 1


def test_passes():
    assert helper(1) == 2


def test_fails():
    data = {"key": [1, 2, 3]}
    assert helper(data["key"][0]) == 3, "a failing test warms the failure report"
"""


def warm_up():
    """Import pytest, pdb and numpy, and run a small session, so that children start from a warm state.

    numpy, where installed: the HumanEval and MBPP tests import it (a third of
    their run). Each child reseeds its global random state (see ``reseed``).
    """
    try:
        import numpy  # noqa: F401
    except ImportError:
        pass
    try:
        import pdb  # noqa: F401

        import pytest
        from _pytest.config import default_plugins
    except ImportError:
        return
    import importlib

    for name in default_plugins:
        try:
            importlib.import_module("_pytest." + name)
        except ImportError:
            pass
    folder = tempfile.mkdtemp(prefix="gym-pdb-warmup-")
    modules, path = set(sys.modules), list(sys.path)
    stdout, stderr = os.dup(1), os.dup(2)
    try:
        with open(os.path.join(folder, "test_gym_pdb_warmup.py"), "w") as f:
            f.write(WARMUP_TEST)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        args = ["-q", "--tb=short", "-p", "no:cacheprovider", "--noconftest", "--rootdir", folder, folder]
        if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_plugin.py")):
            args += ["-p", "eval_plugin", "--gym-pdb-results", os.path.join(folder, "results.jsonl")]
        pytest.main(args)
    except Exception:
        pass
    finally:
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.close(stdout)
        os.close(stderr)
        for name in set(sys.modules) - modules:
            if getattr(sys.modules[name], "__file__", None) and sys.modules[name].__file__.startswith(folder):
                del sys.modules[name]
        sys.path[:] = path
        linecache.clearcache()
        tempfile.tempdir = None  # found again from each child's TMPDIR
        shutil.rmtree(folder, ignore_errors=True)


class Zygote:
    def __init__(self, config):
        self.uid = config.get("uid")
        self.rlimits = [(getattr(resource, "RLIMIT_" + name.upper()), int(value)) for name, value in config.get("rlimits", [])]
        self.base_path = sys.path[1:]
        self.children = {}  # pid -> function that reports its exit code
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def serve(self, channel):
        """Take requests from ``channel`` until it closes."""
        while True:
            ready, _, _ = select.select([self.wake_r, *channel.fds], [], [])
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
                self.reap()
            for fd in ready:
                if fd != self.wake_r and not channel.readable(self, fd):
                    return

    def stop(self):
        """Kill every child's process group, and report them (the host is gone)."""
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

    def reap(self):
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

    def fork(self, run, fds, report):
        """Fork a child that runs ``run()`` (it returns the exit code); ``report(pid, code)`` when it ends.

        ``fds`` (the child's streams) are closed here once the child has them.
        """
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = run()
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self.children[pid] = report
        return pid

    # -- in the child ------------------------------------------------------
    def kill_all(self):
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

    def program(self, request, stdout, stdin):
        try:
            self.confine(request, stdout, stdin)
        except BaseException as exc:
            os.write(2, ("gym-pdb: could not start the program: %r\n" % (exc,)).encode())
            return 126
        reseed()
        return run_program(request["argv"], self.base_path)

    def confine(self, request, stdout, stdin):
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        if stdin is None:
            stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stdout, 2)
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        for limit, value in self.rlimits:
            resource.setrlimit(limit, (value, value))
        if self.uid is not None:
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)
            # Changing uid made the process undumpable (its /proc entries root's); exec would undo that.
            LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(BASE_ENV)
        os.environ.update(request["env"])
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), "utf-8")
        sys.stdout = sys.__stdout__ = _output(1, "strict")
        sys.stderr = sys.__stderr__ = _output(2, "backslashreplace")


class HostSocket:
    """Requests from the local sandbox's host, over a SOCK_SEQPACKET socket with file descriptors."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.fds = [self.sock.fileno()]

    def send(self, message):
        try:
            self.sock.send(json.dumps(message).encode())
        except OSError:
            pass

    def readable(self, zygote, fd):
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
            stdout, stdin = fds[0], (fds[1] if len(fds) > 1 else None)
            run = lambda: zygote.program(request, stdout, stdin)  # noqa: E731
            pid = zygote.fork(run, fds, lambda pid, code: self.send({"exit": pid, "code": code}))
        except (ValueError, LookupError, OSError) as exc:
            for fd in fds:
                os.close(fd)
            self.send({"error": str(exc)})
            return True
        self.send({"pid": pid})
        return True


class RequestFifo:
    """Requests from connector processes (docker execs), one line each through a FIFO only root can reach."""

    def __init__(self, path):
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        self.fifo = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # read-write: never EOF when writers come and go
        self.fds = [self.fifo, 0]
        self.pending = b""
        self.connectors = set()

    def readable(self, zygote, fd):
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

    def start(self, zygote, line):
        try:
            connector, _, raw = line.partition(b" ")
            connector = int(connector)
            request = json.loads(raw)
            streams = [os.open("/proc/%d/fd/%d" % (connector, fd), mode) for fd, mode in CONNECTOR_STREAMS]
        except (ValueError, OSError):
            return
        stdin, stdout, control = streams

        def report(pid, code):
            _write(control, "\x1egym-pdb rc %d\n" % (code if code >= 0 else 128 - code))
            os.close(control)
            self.end(connector)

        try:
            pid = zygote.fork(lambda: zygote.program(request, stdout, stdin), [stdin, stdout], report)
        except OSError as exc:
            os.close(stdin)
            os.close(stdout)
            _write(control, "gym-pdb: could not start the program: %s\n" % (exc,))
            report(None, 126)
            return
        self.connectors.add(connector)
        _write(control, "\x1egym-pdb pid %d\n" % pid)

    def end(self, connector):
        self.connectors.discard(connector)
        try:
            os.kill(connector, signal.SIGKILL)
        except OSError:
            pass

    def close(self):
        for connector in list(self.connectors):
            self.end(connector)


def _write(fd, text):
    try:
        os.write(fd, text.encode())
    except OSError:
        pass


def reseed():
    """Fresh random state from the OS, as a new interpreter gets (``random`` reseeds itself at fork)."""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def _output(fd, errors):
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), "utf-8", errors, write_through=True)


def run_program(argv, base_path):
    """Run ``python ARGV`` in this process, as the interpreter would; returns the exit code."""
    pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if argv[0] == "-m":
        sys.path[:] = [os.getcwd(), *pythonpath, *base_path]
        sys.argv = ["-m", *argv[2:]]
        run = lambda: runpy.run_module(argv[1], run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        script = argv[0]
        sys.path[:] = [os.path.dirname(os.path.realpath(script)), *pythonpath, *base_path]
        sys.argv = list(argv)
        run = lambda: runpy.run_path(script, run_name="__main__")  # noqa: E731
    gc.enable()
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        threading._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    return code


def _exit_code(value):
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    try:
        sys.stderr.write(str(value) + "\n")
    except BaseException:
        pass
    return 1


def main():
    if sys.argv[1] == "--fifo":
        channel_of = lambda: RequestFifo(sys.argv[2])  # noqa: E731
    else:
        channel_of = lambda: HostSocket(int(sys.argv[1]))  # noqa: E731
    config = json.loads(sys.argv[-1])
    warm_up()
    gc.collect()
    gc.freeze()
    zygote = Zygote(config)
    channel = channel_of()
    if isinstance(channel, HostSocket):
        channel.send({"ready": True, "pid": os.getpid()})
    else:
        _write(1, json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    try:
        zygote.serve(channel)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        zygote.stop()
        if isinstance(channel, RequestFifo):
            channel.close()


if __name__ == "__main__":
    main()
