"""bubblewrap (``bwrap``), the local sandbox's walls: mount, PID, network, IPC and UTS namespaces.

Every process of a local sandbox that confines with bubblewrap (its
programs, and its warm interpreter, whose forks share its namespaces) sees
the host's root read-only, a minimal ``/dev``, an empty private ``/tmp``,
``/dev/shm`` and ``/run``, its own ``/proc`` of its own PID namespace, no
network unless asked, and, writable, only the sandbox's workspace and
scratch folder. bwrap always sets no-new-privileges and mounts nosuid; as
root it keeps only the capabilities asked for. Without root it needs
unprivileged user namespaces (``--unshare-user``).

bwrap starts in a private copy of the host's mount namespace (``unshare
--mount``): bwrap makes every mount below / read-only one by one, and in the
host's own namespace a mount that goes meanwhile (Docker starting a
container) fails the start.

Why no ``--die-with-parent`` but from the main thread: its parent-death
signal follows the thread that started bwrap, and the sandbox starts
processes from short-lived threads (the pdb session's standbys, trainers'
pools). A sandbox does not need it: killing bwrap's process group kills the
PID namespace's init, and with it every process in the namespace.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
from typing import Sequence, overload

BWRAP = "bwrap"
#: the size of each private tmpfs (/tmp, /dev/shm, /run), as the Docker sandbox's /tmp
TMPFS_BYTES = 256 * 1024**2
#: what the warm interpreter keeps as root: its forks drop to the sandbox's uid, and it kills them
ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL")
#: what a program's own start keeps as root: ``setpriv`` drops it to the sandbox's uid
PROGRAM_CAPS = ("CAP_SETUID", "CAP_SETGID")


def bwrap_args(
    writable: Sequence[str] = (),
    readonly: Sequence[str] = (),
    network: bool = False,
    caps: Sequence[str] | None = None,
) -> list[str]:
    """``unshare``, bwrap and bwrap's options, up to the ``--`` before the command.

    ``writable`` and ``readonly`` folders are bound at their own paths over
    the private /tmp; ``caps``: the capabilities kept when root (None when
    not root: a user namespace, and none).
    """
    private_mounts = ["--mount", "--propagation", "private", "--"]
    if caps is None:
        private_mounts = ["--user", "--map-current-user", *private_mounts]
    tmpfs = ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs"]
    args = [shutil.which("unshare") or "unshare", *private_mounts, shutil.which(BWRAP) or BWRAP]
    args += ["--ro-bind", "/", "/", "--dev", "/dev", *tmpfs, "/dev/shm"]
    args += ["--unshare-pid", "--proc", "/proc", *tmpfs, "/tmp", "--unshare-ipc", "--unshare-uts"]
    if os.path.isdir("/run") and not os.path.islink("/run"):
        args += ["--size", str(TMPFS_BYTES), "--tmpfs", "/run"]  # the host's sockets (docker's, dbus's)
    if not network:
        args.append("--unshare-net")
    if caps is None:
        args.append("--unshare-user")
    else:
        args += ["--cap-drop", "ALL", *(arg for cap in caps for arg in ("--cap-add", cap))]
    folders = []  # in the private /tmp, the folders above the bound ones: traversable, as the host's are
    for path in (*readonly, *writable):
        parent = os.path.dirname(path)
        while parent.startswith("/tmp/") and parent not in folders:
            folders.append(parent)
            parent = os.path.dirname(parent)
    for folder in sorted(folders):
        args += ["--perms", "0711", "--dir", folder]
    for path in readonly:
        args += ["--ro-bind", path, path]
    for path in writable:
        args += ["--bind", path, path]
    return args


def with_parent_death(args: list[str]) -> list[str]:
    """``args`` with ``--die-with-parent`` when this is the main thread (see the module's docstring)."""
    if threading.current_thread() is not threading.main_thread():
        return args
    at = next(i for i, arg in enumerate(args) if os.path.basename(arg) == BWRAP) + 1
    return [*args[:at], "--die-with-parent", *args[at:]]


def interpreter_folders(python: str) -> list[str]:
    """The folders of the interpreter ``python`` that the private /tmp would hide (a venv in /tmp)."""
    tmp = "/tmp/"
    candidates = {os.path.dirname(os.path.dirname(p)) for p in (os.path.abspath(python), os.path.realpath(python))}
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        candidates |= {sys.prefix, sys.base_prefix}
    return sorted(p for p in candidates if (p + "/").startswith(tmp) and os.path.isdir(p))


@functools.lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot confine here; None when it can. Probed once per process."""
    if shutil.which(BWRAP) is None:
        return "bubblewrap (bwrap) is not installed"
    if shutil.which("unshare") is None:
        return "util-linux's unshare is not installed"
    caps = ZYGOTE_CAPS if os.geteuid() == 0 else None
    try:
        probe = subprocess.run(
            [*bwrap_args(caps=caps), "--", "true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run: {exc}"
    if probe.returncode != 0:
        return f"bwrap cannot create its namespaces here: {probe.stderr.decode(errors='replace').strip()}"
    return None


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s children."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        pass  # a kernel without CONFIG_PROC_CHILDREN: every process's parent
    except OSError:
        return []
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


@overload
def program_code(code: int) -> int: ...


@overload
def program_code(code: None) -> None: ...


@overload
def program_code(code: int | None) -> int | None: ...


def program_code(code: int | None) -> int | None:
    """bwrap reports death by signal N as 128+N; report it as -N, like subprocess."""
    return -(code - 128) if code is not None and 128 < code < 128 + 65 else code


class BwrapChild:
    """A program started under bwrap, with the part of ``subprocess.Popen``'s interface the sandbox uses.

    ``popen`` is bwrap (``unshare`` execs it), which leads the process group; below it, the PID
    namespace's init (bwrap's too), and below that the program. The program's
    exit code is bwrap's; signals go to the program itself.
    """

    def __init__(self, popen: subprocess.Popen):
        self._popen = popen
        self.pid = popen.pid
        self._program: int | None = None

    @property
    def returncode(self) -> int | None:
        return program_code(self._popen.returncode)

    def poll(self) -> int | None:
        return program_code(self._popen.poll())

    def wait(self, timeout: float | None = None) -> int:
        return program_code(self._popen.wait(timeout))

    def send_signal(self, sig: int) -> None:
        if self._program is None and self._popen.poll() is None:
            inits = children(self.pid)
            programs = children(inits[0]) if inits else []
            self._program = programs[0] if programs else None
        if self._program is not None and self._popen.poll() is None:
            try:
                os.kill(self._program, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """Kill bwrap's group: its init goes, and with it every process of its PID namespace."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._popen.kill()
