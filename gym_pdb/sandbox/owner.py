"""Which process owns a sandbox, so that leftovers of dead processes can be pruned."""

from __future__ import annotations

import os
import socket


def _process_start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2 :].split()[19].decode()
    except (OSError, ValueError, IndexError):
        return ""


def owner_token(pid: int | None = None) -> str:
    """``host:pid:start-time`` of a process (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_process_start_time(pid)}"


def owner_alive(token: str) -> bool | None:
    """Whether the process a token names still runs; None if it is on another host."""
    try:
        host, pid_s, start = token.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or _process_start_time(pid) in ("", start)
