"""What outlives a local sandbox's methods: its uid's processes, its folder, and prune for owners that died.

A sandbox's folder holds an owner file (``owner.py``'s token and the uid), so
that a later process can tell whether the sandbox is orphaned.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import Callable

from gym_pdb.sandbox.local_process import LocalProcess
from gym_pdb.sandbox.owner import owner_alive
from gym_pdb.sandbox.warm import WarmPython

UID_RANGE = (200_000, 2_000_000_000)
ROOT_PREFIX = "gym-pdb-"
OWNER_FILE = "owner"


def cleanup(root: str, uid: int | None, processes: set[LocalProcess], warm_slot: list[WarmPython | None]) -> None:
    """What ``LocalSandbox.close`` (or its finalizer) does: its processes killed, its folder removed."""
    for proc in list(processes):
        proc.kill()
    if warm_slot[0] is not None:
        warm_slot[0].close()
    if uid is not None:
        kill_uid(uid, wait=2.0)
    shutil.rmtree(root, ignore_errors=True)


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


def kill_uid(uid: int, wait: float = 0.0) -> None:
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


def prune(all: bool = False, tmpdir: str | None = None, log: Callable[[str], object] | None = None) -> list[str]:
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
            kill_uid(int(uid), wait=2.0)
        shutil.rmtree(root, ignore_errors=True)
        removed.append(root)
        if log:
            log(f"removed {root}")
    return removed
