"""How the local sandbox confines a process where it starts one: resource limits, uid, network, bubblewrap or not.

The limits and the uid come from exec'd util-linux programs, not from Python
code between fork and exec (see ``confinement_prefix``); bubblewrap's own
options are in ``bwrap.py``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import warnings

from gym_pdb.sandbox.base import Limits, SandboxError
from gym_pdb.sandbox.bwrap import bwrap_problem


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


def can_unshare_network_as_user() -> bool:
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
