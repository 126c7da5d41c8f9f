"""A warm Python for a sandbox: forks a ready interpreter for each ``python ARGS``.

    python zygote.py FD CONFIG_JSON            (local sandbox: FD is a unix socket)
    python zygote.py --fifo PATH CONFIG_JSON   (docker sandbox: requests on stdin and through a FIFO)
    python zygote.py --once CONFIG_JSON        (docker, root, no warm interpreter: one request on stdin)

Starting Python and importing pytest and pdb (and numpy) costs more than most
tests take to run. This process does it once (``warmup.py``), then forks a
child for each request (``forkserver.py``) that runs the program as
``python ARGS`` would (``pyrun.py``). Requests and replies: ``channels.py``.

CONFIG_JSON: {"uid": N or null, "rlimits": [[NAME, VALUE], ...],
"prepared_eval": {"argv": [...], "env": {...}, "cwd": DIR} or absent}. When the
sandbox has a uid this process is root and its children drop to the uid, so
task code can neither signal nor trace it, nor reach its socket or FIFO: it
serves every episode of the sandbox.

With ``prepared_eval`` (the sandbox's eval command but for its per-run
arguments), a helper forked from this process holds a pytest session of that
command and forks the evals from it (``prepared_host.py``, and
``prepared_eval.py`` for pytest's side). Any other request, or any when the
helper is gone, is forked here.

The warm interpreter's modules import each other as top-level modules, from
the folder of this script, which Python puts first on ``sys.path``.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from typing import Any, Callable

import pyrun
import warmup
from channels import HostSocket, OneRequest, RequestFifo
from forkserver import Channel, Zygote
from prepared_host import start_prepared_eval


def run_once(config: dict[str, Any]) -> None:
    """``--once``: one request, no warm-up; see ``OneRequest``."""
    zygote = Zygote(config)
    try:
        channel = OneRequest(zygote)
        if not channel.done:
            zygote.serve(channel)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        zygote.stop()


def main() -> None:
    if sys.argv[1] == "--once":
        run_once(json.loads(sys.argv[2]))
        return
    channel_of: Callable[[], Channel]
    if sys.argv[1] == "--fifo":
        channel_of = lambda: RequestFifo(sys.argv[2])  # noqa: E731
    else:
        channel_of = lambda: HostSocket(int(sys.argv[1]))  # noqa: E731
    config = json.loads(sys.argv[-1])
    if config.get("preload", True):  # off for a repository's sandbox: nothing third-party ahead of its own code
        warmup.warm_up()
    compiled = pyrun.compile_support_scripts(os.path.dirname(os.path.realpath(__file__)))
    if config.get("prepared_eval"):
        # The eval's (and gym-pdb's pdb's) plugin set, and none: a plain pytest (the swe-pdb profile's).
        warmup.prebuild_pytest_config(warmup.blocked_plugins(config["prepared_eval"]["argv"]), set())
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
        channel.announce()
    try:
        zygote.serve(channel)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        zygote.stop()
        if isinstance(channel, RequestFifo):
            channel.close()


if __name__ == "__main__":
    main()
