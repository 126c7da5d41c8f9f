"""The warm interpreter of a container (``support/zygote.py``) and how a run reaches it.

Starting Python and importing pytest costs more than most test runs. The
zygote, a root process started once per container, has done both; a run of
``python SCRIPT`` or ``python -m MODULE`` is a connector exec that hands it a
request through its FIFO (root only), and the zygote forks the program, as the
sandbox uid, onto the connector's streams (see ``protocol.CONNECTOR``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence

from gym_pdb.sandbox.base import SandboxError
from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.container import Container
from gym_pdb.sandbox.docker.protocol import SUPPORT_DIR, WARM_FIFO, WORKDIR
from gym_pdb.sandbox.docker.transport import ExecStream
from gym_pdb.sandbox.warm import forkable


def forkable_run(argv: Sequence[str], env: Mapping[str, str], python: str, zygote_env: Mapping[str, str]) -> bool:
    """Whether ``argv`` with ``env`` is a python run that a zygote started with ``zygote_env`` can fork."""
    return argv[0] in (python, "python", "python3") and forkable(argv[1:], env, zygote_env)


def request_line(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """The JSON request that asks a zygote to run ``python ARGV[1:]`` in the workspace with ``env``."""
    return json.dumps({"argv": list(argv[1:]), "env": dict(env), "cwd": WORKDIR})


def zygote_argv(python: str, config: str, once: bool = False) -> list[str]:
    """The command of a zygote that serves the request FIFO, or (``once``) one request read from stdin.

    A one-off zygote relays the record channel of a run that a warm one cannot take.
    """
    mode = ["--once"] if once else ["--fifo", WARM_FIFO]
    return [python, f"{SUPPORT_DIR}/zygote.py", *mode, config]


class WarmInterpreter:
    """The zygote of one container: started by a root exec, restarted when it dies.

    Args:
        container: where it runs.
        python: the interpreter in the image.
        config: its CONFIG_JSON (``gym_pdb.sandbox.warm.zygote_config``).
        env: its environment, that of the sandbox's processes.
    """

    def __init__(self, container: Container, python: str, config: str, env: Mapping[str, str]) -> None:
        self.container = container
        self.python = python
        self.env = dict(env)
        self._argv = zygote_argv(python, config)
        self.stream: ExecStream | None = None
        self._ready = False
        # Runs start from several threads (the swe-pdb profile's eval starts its two runs side by side):
        # one at a time reads the zygote's stream, which a poller serves to one caller only.
        self._lock = threading.RLock()
        self.start()

    def start(self) -> None:
        """Start the zygote; it is ready once it says so (:meth:`ready`). A failure leaves runs cold."""
        with self._lock:
            self._ready = False
            try:
                self.stream = self.container.exec(self._argv, user="0:0", env=self.env, stdin=True)
            except SandboxError:
                self.stream = None

    def ready(self) -> bool:
        """Whether the zygote is up, without waiting; one that died is restarted for later runs."""
        with self._lock:
            stream = self.stream
            if stream is None:
                return False
            for _ in range(64):
                if stream.eof or not stream.pump(0):
                    break
            if stream.eof:
                stream.close()
                self.start()
                return False
            if not self._ready and b'"ready"' in stream.pending:
                stream.take()
                self._ready = True
            return self._ready

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for :meth:`ready`."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            remaining = deadline - time.monotonic()
            with self._lock:
                if remaining <= 0 or self.stream is None:
                    return False
                self.stream.pump(min(remaining, 0.05))
        return True

    def request(self, argv: Sequence[str], env: Mapping[str, str]) -> str | None:
        """The request that runs ``argv`` with the whole environment ``env`` here, if the zygote is up and can."""
        if not forkable_run(argv, env, self.python, self.env):
            return None
        line = request_line(argv, env)
        if len(line) > protocol.MAX_WARM_REQUEST or not self.ready():
            return None
        return line

    def close(self) -> None:
        """Close its exec: its stdin ends and the zygote exits."""
        with self._lock:
            if self.stream is not None:
                self.stream.close()
            self.stream = None
