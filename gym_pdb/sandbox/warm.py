"""The host's end of a warm Python (``support/zygote.py``): fork a ready interpreter per run.

A sandbox that has one runs ``python ARGS`` by asking the zygote to fork,
which skips the interpreter's start and pytest's imports (most of a short
test run). The zygote confines each child as the sandbox would (session,
limits, uid); the host keeps its pipes and a pidfd of the child (sent by the
zygote: in a PID namespace of its own, the pids it names are not the host's),
so waiting, killing and reading work as for any other process of the sandbox.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from typing import Callable, Mapping, Sequence

from gym_pdb.sandbox.base import SandboxError, SandboxInfo
from gym_pdb.sandbox.support import eval_command

MAX_MESSAGE = 65536
EMULATED = ("PYTHONPATH", "PYTHONSAFEPATH")  # start-up variables a fork of the zygote honours


def forkable(args: Sequence[str], env: Mapping[str, str], zygote_env: Mapping[str, str]) -> bool:
    """Whether ``python ARGS`` with ``env`` can run in a zygote started with ``zygote_env``.

    ``ARGS`` must be ``SCRIPT.py ...`` or ``-m MODULE ...``, and the variables
    read at interpreter start (``PYTHON*`` but ``PYTHONPATH`` and
    ``PYTHONSAFEPATH``, which the zygote emulates) the zygote's: a warm
    interpreter cannot change them.
    """
    if not args or not (args[0] == "-m" and len(args) > 1 or args[0].endswith(".py")):
        return False

    def settings(variables: Mapping[str, str]) -> dict[str, str]:
        return {k: v for k, v in variables.items() if k.startswith("PYTHON") and k not in EMULATED}

    return settings(env) == settings(zygote_env)


def zygote_config(
    uid: int | None,
    rlimits: Sequence,
    info: SandboxInfo,
    env_of: Callable[[Mapping[str, str]], dict[str, str]],
    prepared: bool = True,
    preload: bool = True,
) -> str:
    """The zygote's CONFIG_JSON: the uid and limits of its children, and the eval command it prepares.

    ``env_of(extra)`` is the whole environment the sandbox gives a run with ``extra``. Without
    ``preload`` the zygote imports nothing but its own (stdlib) modules: its children only skip
    the interpreter's start.
    """
    config: dict = {"uid": uid, "rlimits": [list(r) for r in rlimits], "preload": preload}
    if prepared:
        args, env = eval_command(info.support_dir, info.workdir)
        config["prepared_eval"] = {"argv": args, "env": env_of(env), "cwd": info.workdir}
    return json.dumps(config)


class WarmPython:
    """A zygote process of one sandbox, and the socket to it.

    Args:
        argv: the command that starts it, ``zygote.py`` included (the sandbox
            prepends its network confinement).
        env: its environment: that of the sandbox's processes.
        cwd: a folder that outlives the workspace's resets.
        config: its CONFIG_JSON (``zygote_config``).
    """

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str, config: str):
        self.env = dict(env)
        host_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._popen = subprocess.Popen(
                [*argv, str(zygote_end.fileno()), config],
                pass_fds=[zygote_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=cwd,
                env=self.env,
                start_new_session=True,
            )
        except OSError as exc:
            host_end.close()
            raise SandboxError(f"could not start the warm interpreter: {exc}") from exc
        finally:
            zygote_end.close()
        self._sock = host_end
        self._lock = threading.Lock()
        self._exits: dict[int, int] = {}
        self._forgotten: set[int] = set()
        self._ready: bool | None = None
        self._closed = False

    def ready(self, timeout: float) -> bool:
        """Wait (up to ``timeout``) until the zygote has warmed up; False if it is not ready."""
        with self._lock:
            deadline = time.monotonic() + timeout
            while self._ready is None and not self._closed:
                message = self._receive(deadline)
                if message is None and not self._closed:
                    return False  # still warming up
                if message and "ready" in message:
                    self._ready = True
            return bool(self._ready) and self.alive()

    def fork(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: str, stdout: int, stdin: int | None, records: int | None = None
    ) -> tuple[int, int | None]:
        """Start ``python ARGV`` with these streams (and record channel); returns its pid as the zygote sees it, and a pidfd of it.

        The pidfd is None when the child ended before the zygote could open one.
        """
        request: dict = {"argv": list(argv), "env": dict(env), "cwd": cwd}
        fds = [stdout]
        if records is not None:
            request["records"] = True
            fds.append(records)
        if stdin is not None:
            fds.append(stdin)
        reply = self._request(request, fds)
        return reply["pid"], reply.get("pidfd")

    def kill_all(self) -> bool:
        """Kill every process of the sandbox's uid (no process to start: cheaper than ``kill -1``)."""
        return bool(self._request({"kill_all": True}, []).get("killed"))

    def _request(self, message: dict, fds: list[int]) -> dict:
        """Send a request; returns its reply (``{"pid": ...}`` for a fork)."""
        request = json.dumps(message).encode()
        with self._lock:
            try:
                if fds:
                    socket.send_fds(self._sock, [request], fds)
                else:
                    self._sock.send(request)
            except OSError as exc:
                raise SandboxError(f"the warm interpreter is gone: {exc}") from exc
            deadline = time.monotonic() + 10
            while True:
                reply = self._receive(deadline)
                if reply is None:
                    raise SandboxError("the warm interpreter did not answer")
                if "error" in reply:
                    raise SandboxError(f"the warm interpreter could not fork: {reply['error']}")
                if reply and "ready" not in reply:
                    return reply

    def exit_code(self, pid: int, timeout: float) -> int | None:
        """The exit code of a child that has ended (the zygote reports it once it has reaped it)."""
        with self._lock:
            deadline = time.monotonic() + timeout
            while pid not in self._exits:
                if self._receive(deadline) is None:
                    return None
            return self._exits.pop(pid)

    def forget(self, pid: int) -> None:
        """Nobody will ask for ``pid``'s exit code: drop it when it comes."""
        with self._lock:
            if self._exits.pop(pid, None) is None:
                self._forgotten.add(pid)

    def _receive(self, deadline: float) -> dict | None:
        """The next message that is not an exit report (those are kept); None at EOF or the deadline."""
        while not self._closed:
            remaining = max(0.0, deadline - time.monotonic())
            if not select.select([self._sock], [], [], remaining)[0]:
                return None
            try:
                data, fds, _, _ = socket.recv_fds(self._sock, MAX_MESSAGE, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                for fd in fds:
                    os.close(fd)
                self._closed = True
                return None
            message = json.loads(data)
            if fds:
                if "pid" not in message:
                    os.close(fds[0])
                else:
                    message["pidfd"] = fds[0]
            if "exit" in message:
                pid = message["exit"]
                if pid in self._forgotten:
                    self._forgotten.discard(pid)
                else:
                    self._exits[pid] = message["code"]
                return {}
            return message
        return None

    def alive(self) -> bool:
        return not self._closed and self._popen.poll() is None

    def close(self) -> None:
        self._closed = True
        self._sock.close()
        try:  # its group: under bwrap, bwrap's init with it, and so every process of its PID namespace
            os.killpg(self._popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._popen.wait()


def pidfd_pid(pidfd: int) -> int | None:
    """The pid, in this process's PID namespace, of the process ``pidfd`` refers to; None once it is reaped."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError, IndexError):
        pass
    return None


class ForkedChild:
    """A child of the zygote, with the part of ``subprocess.Popen``'s interface the sandbox uses.

    ``pid`` is the host's (None when it ended before it was seen); ``zygote_pid``
    the zygote's, which names it in the exit reports.
    """

    def __init__(self, zygote: WarmPython, pid: int, pidfd: int | None):
        self.zygote = zygote
        self.zygote_pid = pid
        self._pidfd = pidfd
        self.pid = pidfd_pid(pidfd) if pidfd is not None else None
        self.returncode: int | None = None
        self._killed = False

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self._collect()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        if not self._ended(timeout):  # never without a timeout: _ended(None) blocks until the child ends
            raise subprocess.TimeoutExpired(str(self.zygote_pid), timeout or 0.0)
        return self._collect()

    def _ended(self, timeout: float | None) -> bool:
        if self._pidfd is None:
            return True
        return bool(select.select([self._pidfd], [], [], timeout)[0])

    def _collect(self) -> int:
        if self._killed:  # its code is ours: no need to wait for the zygote's report
            code = self.zygote.exit_code(self.zygote_pid, timeout=0)
            if code is None:
                self.zygote.forget(self.zygote_pid)
                code = -signal.SIGKILL
        else:
            code = self.zygote.exit_code(self.zygote_pid, timeout=2.0)
        self.returncode = code if code is not None else -signal.SIGKILL
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self._killed = True
        self.send_signal(signal.SIGKILL)
