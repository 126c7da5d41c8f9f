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

A request is ``{"argv": [SCRIPT | "-m", MODULE, ARG...], "env": {...}, "cwd": DIR}``,
with ``"records": true`` for a run that has a record channel (``records.py``):
the child gets it as a descriptor named by ``GYM_PDB_RECORDS_FD``.

- Socket (SOCK_SEQPACKET): the request comes with the child's stdout (then
  its record channel, if any, then its stdin, if any) as file descriptors; the reply is ``{"pid": N}``
  with a pidfd of the child (the host's pids are not N under bwrap), and when
  the child ends ``{"exit": N, "code": C}`` (C negative for a signal, as with
  subprocess). ``{"kill_all": true}`` kills every process of the sandbox's uid
  (reply ``{"killed": true}``).
  The zygote exits when the socket closes.
- FIFO: one line ``CONNECTOR_PID REQUEST``, written by a connector process (a
  ``docker exec``, with copies of its stdin, stdout and stderr on fds 5, 6,
  7); the child gets the connector's stdin and stdout, and the
  connector's stderr gets the lines ``\x1egym-pdb pid N`` and, when the child
  ends, ``\x1egym-pdb rc C`` (128+N for signal N, as from sh); then the
  connector is killed, which ends the exec. A line ``CONNECTOR_PID KEY REQUEST``
  asks for a record channel with that key: the zygote makes it, writes the
  key into it, and relays what the child writes there as lines
  ``\x1egym-pdb rec BASE64`` on the connector's stderr, before the ``rc``
  line. The zygote exits when its stdin closes.
- Once (``--once CONFIG_JSON``, root, docker without a warm interpreter): the
  same for one request read from stdin, on this process's own streams.

CONFIG_JSON: {"uid": N or null, "rlimits": [[NAME, VALUE], ...],
"prepared_eval": {"argv": [...], "env": {...}, "cwd": DIR} or absent}. When the
sandbox has a uid this process is root and its children drop to the uid, so
task code can neither signal nor trace it, nor reach its socket or FIFO: it
serves every episode of the sandbox.

With ``prepared_eval`` (the sandbox's eval command but for its per-run
arguments), a helper forked from this process holds a pytest session of that
command, configured and started, and forks the evals from it
(``PreparedEval`` here, ``run_prepared_eval`` in the helper,
``prepared_eval.py`` for pytest's side); the zygote relays their pids and
exit codes. Any other request, or any when the helper is gone, is forked here.
"""

import atexit
import base64
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
import time
import traceback

MAX_FDS = 4
PREPARE_TIMEOUT = 30.0
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
            args += ["-p", "eval_plugin"]
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


def blocked_plugins(args):
    """The plugins ``-p no:NAME`` arguments block, as pytest reads them before it loads any."""
    blocked, args = set(), list(args)
    for i, arg in enumerate(args):
        if arg == "-p" and i + 1 < len(args):
            name = args[i + 1].strip()
        elif arg.startswith("-p") and arg != "-p":
            name = arg[2:].strip()
        else:
            continue
        if name.startswith("no:"):
            blocked.add(name[3:])
    return blocked


def prebuild_pytest_config(blocked):
    """Register pytest's built-in plugins once, here, for the first pytest run of each child.

    A pytest run starts by building its plugin manager and registering some
    thirty built-in plugins (their hooks and command-line options: ~9 ms)
    before it reads its arguments; only ``-p no:NAME`` changes that step. So
    a config with that step done, for the plugins the sandbox's pytest runs
    block (the eval's and the pdb driver's), is built here, and pytest's
    ``get_config`` gives it to a child's first run that blocks the same ones,
    with the run's own invocation (arguments, plugins, folder). Any other run
    builds its own, as pytest does.
    """
    try:
        import pathlib

        import _pytest.config as pytest_config
    except ImportError:
        return
    original = pytest_config.get_config
    try:
        prebuilt = [original(["-p" + "no:" + name for name in sorted(blocked)])]
    except Exception:
        return

    def get_config(args=None, plugins=None, **kwargs):
        prog = kwargs.pop("prog", None)  # pytest >= 9: the name in usage messages
        parser = getattr(prebuilt[0], "_parser", None) if prebuilt else None
        if (
            prebuilt
            and not kwargs
            and blocked_plugins(args or ()) == blocked
            and (prog is None or isinstance(getattr(type(parser), "prog", None), property))
        ):
            config = prebuilt.pop()
            if prog is not None:
                parser.prog = prog
            config.invocation_params = pytest_config.Config.InvocationParams(
                args=args or (), plugins=plugins, dir=pathlib.Path.cwd()
            )
            return config
        if prog is not None:
            kwargs["prog"] = prog
        return original(args, plugins, **kwargs)

    pytest_config.get_config = get_config


class Zygote:
    prepared = None  # a PreparedEval, when the sandbox's eval command is prepared

    def __init__(self, config):
        self.uid = config.get("uid")
        self.rlimits = [(getattr(resource, "RLIMIT_" + name.upper()), int(value)) for name, value in config.get("rlimits", [])]
        self.base_path = sys.path[1:]
        self.compiled = {}  # support scripts' code (compile_support_scripts)
        self.children = {}  # pid -> function that reports its exit code
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def serve(self, channel):
        """Take requests from ``channel`` until it closes."""
        while True:
            prepared = self.prepared
            prepared_fds = prepared.fds if prepared is not None else []
            ready, _, _ = select.select([self.wake_r, *channel.fds, *prepared_fds], [], [])
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
                self.reap()
            if prepared_fds and prepared_fds[0] in ready and not prepared.readable():
                self.drop_prepared()
            for fd in ready:
                if fd in channel.fds and not channel.readable(self, fd):
                    return
            if getattr(channel, "done", False):
                return

    def drop_prepared(self):
        """Stop using the prepared eval (it is gone or failed): evals are forked from here."""
        if self.prepared is not None:
            self.prepared.stop()
            self.prepared = None

    def stop(self):
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

    def start(self, request, fds, report):
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

    def fork(self, run, fds, report):
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

    def program(self, request, stdout, stdin, records=None):
        try:
            self.confine(request, stdout, stdin, records)
        except BaseException as exc:
            os.write(2, ("gym-pdb: could not start the program: %r\n" % (exc,)).encode())
            return 126
        reseed()
        return self.run(request)

    def run(self, request):
        """Run the request's program in this confined child; returns its exit code."""
        return run_program(request["argv"], self.base_path, self.compiled)

    def confine(self, request, stdout, stdin, records=None, keep=()):
        """Make this child the sandbox's process for ``request``; fds in ``keep`` and ``records`` stay open."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        if stdin is None:
            stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stdout, 2)
        close_fds({*keep, records} - {None})
        for limit, value in self.rlimits:
            resource.setrlimit(limit, (value, value))
        if self.uid is not None:
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)
            # Changing uid made the process undumpable (its /proc entries root's); exec would undo that.
            LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.chdir(request["cwd"])
        set_environ(request["env"])
        if records is not None:
            from records import FD_VARIABLE

            os.environ[FD_VARIABLE] = str(records)
        standard_streams()


class HostSocket:
    """Requests from the local sandbox's host, over a SOCK_SEQPACKET socket with file descriptors."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.fds = [self.sock.fileno()]

    def send(self, message, fds=()):
        try:
            if fds:
                socket.send_fds(self.sock, [json.dumps(message).encode()], fds)
            else:
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

    def __init__(self, path):
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        self.fifo = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # read-write: never EOF when writers come and go
        self.pending = b""
        self.connectors = set()
        self.relays = {}  # our end of a record channel -> the control stream its lines go to

    @property
    def fds(self):
        return [self.fifo, 0, *self.relays]

    def readable(self, zygote, fd):
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

    def start(self, zygote, line):
        try:
            connector, _, raw = line.partition(b" ")
            connector = int(connector)
            key = None
            if not raw.startswith(b"{"):
                key, _, raw = raw.partition(b" ")
                key = bytes.fromhex(key.decode())
            request = json.loads(raw)
            streams = [os.open("/proc/%d/fd/%d" % (connector, fd), mode) for fd, mode in CONNECTOR_STREAMS]
        except (ValueError, OSError):
            return
        self.start_on(zygote, request, key, *streams, on_end=lambda: self.end(connector))
        self.connectors.add(connector)

    def start_on(self, zygote, request, key, stdin, stdout, control, on_end=lambda: None):
        """Start ``request`` on these streams, reporting on ``control``; ``key``: give it a record channel."""
        fds = [stdout, stdin]
        ours = None
        if key is not None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            ours.sendall(key)
            ours.setblocking(False)
            ours = ours.detach()
            fds = [stdout, theirs.detach(), stdin]
            request = dict(request, records=True)
            self.relays[ours] = control

        def report(pid, code):
            if ours is not None:
                self.relay(ours, drain=True)
            _write(control, "\x1egym-pdb rc %d\n" % (code if code >= 0 else 128 - code))
            os.close(control)
            on_end()

        try:
            pid = zygote.start(request, fds, report)
        except (LookupError, OSError) as exc:
            for fd in fds:
                os.close(fd)
            _write(control, "gym-pdb: could not start the program: %s\n" % (exc,))
            report(None, 126)
            return
        _write(control, "\x1egym-pdb pid %d\n" % pid)

    def relay(self, fd, drain=False):
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
            _write(control, "\x1egym-pdb rec %s\n" % base64.b64encode(data).decode())
            if not drain:
                return
        del self.relays[fd]
        os.close(fd)

    def end(self, connector):
        self.connectors.discard(connector)
        try:
            os.kill(connector, signal.SIGKILL)
        except OSError:
            pass

    def close(self):
        for connector in list(self.connectors):
            self.end(connector)


class OneRequest(RequestFifo):
    """``--once``: one request, read from stdin, run on this process's own streams; ends with it."""

    def __init__(self, zygote):
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
        streams = [os.dup(0), os.dup(1), os.dup(2)]
        self.start_on(zygote, request, bytes.fromhex(key.decode()) if key != b"-" else None, *streams, on_end=self.finish)

    @property
    def fds(self):
        return list(self.relays)

    def finish(self):
        self.done = True

    def readable(self, zygote, fd):
        self.relay(fd)
        return True


def streams(request, fds):
    """(stdout, record channel or None, stdin or None) of a request's fds."""
    stdout, rest = fds[0], list(fds[1:])
    records = rest.pop(0) if request.get("records") and rest else None
    return stdout, records, (rest[0] if rest else None)


class PreparedEval:
    """The zygote's prepared eval process (``run_prepared_eval``), and the runs it forked for the zygote.

    ``spec`` is the sandbox's eval command without the per-run arguments:
    ``{"argv": ["-m", "pytest", ...], "env": {...}, "cwd": DIR}``. A request
    that is this command plus per-run arguments goes to the prepared process,
    which forks the run and reports its pid and exit code over a socket (the
    protocol of ``HostSocket``).
    """

    def __init__(self, config, spec):
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
        self.runs = {}  # pid -> the function that reports its exit code

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select(self.fds, [], [], remaining)[0] or not self.readable():
                return False
        return True

    def accepts(self, request):
        argv, prefix = request.get("argv") or [], self.spec["argv"]
        return (
            self.ready
            and argv[: len(prefix)] == prefix
            and request.get("env") == self.spec["env"]
            and request.get("cwd") == self.spec["cwd"]
            and self.parse_run_args(argv[len(prefix) :]) is not None
        )

    def start(self, request, fds, report):
        """Have the prepared process fork a run of ``request`` on ``fds``; returns the run's pid."""
        socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
        while True:
            if not select.select(self.fds, [], [], 10)[0]:
                raise OSError("the prepared eval did not answer")
            message = self.receive()
            if message is None or "error" in message:
                raise OSError("the prepared eval could not fork: %s" % (message or {}).get("error", "it is gone"))
            if "pid" in message:
                self.runs[message["pid"]] = report
                return message["pid"]
            self.handle(message)

    def readable(self):
        """Take one message from the prepared process; False when it is gone or failed."""
        message = self.receive()
        return message is not None and self.handle(message)

    def receive(self):
        try:
            data = self.sock.recv(MAX_MESSAGE)
        except OSError:
            return None
        return json.loads(data) if data else None

    def handle(self, message):
        if "ready" in message:
            self.ready = True
        elif "exit" in message:
            report = self.runs.pop(message["exit"], None)
            if report is not None:
                report(message["exit"], message["code"])
        elif "failed" in message:
            _write(2, "gym-pdb: the prepared eval failed: %s\n" % message["failed"])
            return False
        return True

    def stop(self):
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


class Unwind(BaseException):
    """Raised in a fork of the prepared eval process, to leave the zygote's frames for pytest's."""

    def __init__(self, value):
        super().__init__()
        self.value = value


class PreparedEvalZygote(Zygote):
    """The prepared eval process's forking: each child goes on with the held pytest session."""

    def __init__(self, config, session, detach, prefix, keep, path_len):
        super().__init__(config)
        self.session = session
        self.detach = detach  # prepared_eval.detach
        self.prefix = prefix  # the number of arguments every eval shares
        self.keep = keep  # pytest's fds
        self.path_len = path_len  # sys.path's length before pytest's own additions
        self.environ = dict(os.environ)  # the run's, with what pytest set (PYTEST_VERSION)

    def confine(self, request, stdout, stdin, records=None, keep=()):
        self.detach(self.session)  # before the streams change
        super().confine(request, stdout, stdin, records, keep=self.keep)
        os.environ.update({k: v for k, v in self.environ.items() if k not in os.environ})
        if not os.environ.get("PYTHONSAFEPATH"):
            sys.path.insert(len(sys.path) - self.path_len, os.getcwd())  # where `python -m` puts it

    def run(self, request):
        gc.enable()
        raise Unwind(request["argv"][self.prefix :])


def run_prepared_eval(config, spec, fd):
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
    standard_streams()
    channel = HostSocket(fd)  # referenced from this frame until the forks exit: no close by the collector
    try:
        set_environ(spec["env"])
        os.chdir(spec["cwd"])
        sys.path[:] = [*_pythonpath(), *sys.path[1:]]  # not the workspace: this process is root
        import prepared_eval
        import pytest
    except Exception as exc:
        channel.send({"failed": repr(exc)})
        return 1
    args = spec["argv"][2:]
    sys.argv = [os.path.join(os.path.dirname(pytest.__file__), "__main__.py"), *args]
    path_len = len(sys.path)

    def serve(session):
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
    return finish(_exit_code(int(code)))


def open_fds():
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue  # the listing's own
        fds.add(int(name))
    return {fd for fd in fds if fd > 2}


def close_fds(keep=()):
    """Close every fd from 3 up but those in ``keep``."""
    start = 3
    for fd in sorted(fd for fd in keep if fd >= 3):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def set_environ(env):
    os.environ.clear()
    os.environ.update(BASE_ENV)
    os.environ.update(env)


def standard_streams():
    """New sys.stdin, stdout and stderr over fds 0, 1 and 2."""
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), "utf-8")
    sys.stdout = sys.__stdout__ = _output(1, "strict")
    sys.stderr = sys.__stderr__ = _output(2, "backslashreplace")


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


def compile_support_scripts(folder):
    """Compile the support scripts once: ``{path: (stat key, code)}`` for running them as ``__main__``.

    Each pdb start runs ``pdb_driver.py`` as a script, which imports it as a
    module: without this, two compiles of it per start. Where this process
    may write the folder (it is root's, or the sandbox has no uid), their
    bytecode also goes into its ``__pycache__`` for the imports.
    """
    import py_compile

    compiled = {}
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not name.endswith(".py") or name == os.path.basename(__file__):
            continue
        try:
            with open(path, "rb") as f:
                compiled[path] = (_stat_key(path), compile(f.read(), path, "exec"))
        except (OSError, SyntaxError, ValueError):
            continue
        if os.access(folder, os.W_OK):
            py_compile.compile(path, doraise=False, quiet=2)
    return compiled


def _pythonpath():
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def _unsafe_path(folder):
    """``[folder]``, which Python puts first on ``sys.path``, unless ``PYTHONSAFEPATH`` says not to."""
    return [] if os.environ.get("PYTHONSAFEPATH") else [folder]


def _stat_key(path):
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _run_as_main(code, script):
    """What ``runpy.run_path`` does for a source file, with its code already compiled."""
    import types

    main = types.ModuleType("__main__")
    main.__file__, main.__cached__, main.__loader__, main.__package__, main.__spec__ = script, None, None, "", None
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def run_program(argv, base_path, compiled=None):
    """Run ``python ARGV`` in this process, as the interpreter would; returns the exit code.

    ``compiled``: scripts' code compiled already (``compile_support_scripts``).
    """
    pythonpath = _pythonpath()
    if argv[0] == "-m":
        sys.path[:] = [*_unsafe_path(os.getcwd()), *pythonpath, *base_path]
        sys.argv = ["-m", *argv[2:]]
        run = lambda: runpy.run_module(argv[1], run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        script, real = argv[0], os.path.realpath(argv[0])
        sys.path[:] = [*_unsafe_path(os.path.dirname(real)), *pythonpath, *base_path]
        sys.argv = list(argv)
        key, code = (compiled or {}).get(real, (None, None))
        if code is not None and _stat_key(script) == key:
            run = lambda: _run_as_main(code, script)  # noqa: E731
        else:
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
    return finish(code)


def finish(code):
    """What the interpreter does before it exits (threads joined, atexit, streams flushed); returns ``code``."""
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


def start_prepared_eval(config):
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


def run_once(config):
    """``--once``: one request, no warm-up; see ``OneRequest``."""
    zygote = Zygote(config)
    try:
        channel = OneRequest(zygote)
        if not channel.done:
            zygote.serve(channel)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        zygote.stop()


def main():
    if sys.argv[1] == "--once":
        return run_once(json.loads(sys.argv[2]))
    if sys.argv[1] == "--fifo":
        channel_of = lambda: RequestFifo(sys.argv[2])  # noqa: E731
    else:
        channel_of = lambda: HostSocket(int(sys.argv[1]))  # noqa: E731
    config = json.loads(sys.argv[-1])
    warm_up()
    compiled = compile_support_scripts(os.path.dirname(os.path.realpath(__file__)))
    if config.get("prepared_eval"):
        prebuild_pytest_config(blocked_plugins(config["prepared_eval"]["argv"]))
    gc.collect()
    gc.freeze()
    prepared = start_prepared_eval(config)
    zygote = Zygote(config)
    zygote.compiled = compiled
    if prepared is not None:
        zygote.prepared = prepared
        zygote.children[prepared.pid] = lambda pid, code: None  # reaped as the others
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
