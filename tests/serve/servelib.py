"""Helpers of the serve tests (a plain module: tests/ is not a package): real servers on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from gym_pdb.serve.app import MAX_MESSAGE_BYTES, PING_INTERVAL, PING_TIMEOUT, ServeConfig, create_serve_app

REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def served(config: ServeConfig | None = None, **kwargs) -> Iterator[tuple[str, object]]:
    """A ``gym-pdb serve`` app on 127.0.0.1 in this process: yields (ws URL, the app); stopped after."""
    config = config or ServeConfig(port=0, **kwargs)
    app = create_serve_app(config)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws_max_size=MAX_MESSAGE_BYTES,
                       ws_ping_interval=PING_INTERVAL, ws_ping_timeout=PING_TIMEOUT, timeout_graceful_shutdown=5)  # fmt: skip
    )
    thread = threading.Thread(target=server.run, name="gym-pdb-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_process(*args: str, env: dict | None = None, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """``gym-pdb serve ARGS`` as a process on a free loopback port; yields (ws URL, the process)."""
    port = free_port()
    cmd = [sys.executable, "-m", "gym_pdb.cli", "serve", "--port", str(port), "--log-level", "warning", *args]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(f"gym-pdb serve did not start: {proc.communicate()[0][-3000:]}") from None
                time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def own_sandbox_dirs() -> list[str]:
    """Local sandbox folders this process owns now (other processes' sandboxes are not counted)."""
    import tempfile

    found = []
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        owner = os.path.join(base, name, "owner")
        if name.startswith("gym-pdb-") and os.path.isfile(owner):
            try:
                token = open(owner).read().split()[0]
            except (OSError, IndexError):
                continue
            if token.split(":")[1:2] == [str(os.getpid())]:
                found.append(name)
    return found


def wait_until(predicate, timeout: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def play_expert(step, task, observation: str, max_turns: int = 40) -> tuple[float, bool, dict]:
    """Drive gym-pdb's expert through ``step(name, arguments) -> (text, reward, done, info)``; the last outcome."""
    import json

    from gym_pdb.agents.expert import ExpertAgent

    agent = ExpertAgent()
    agent.reset(task, observation)
    messages = [{"role": "user", "content": observation}]
    reward, done, info = 0.0, False, {}
    for _ in range(max_turns):
        turn = agent.act(messages, [])
        if turn.stop or not turn.tool_calls:
            break
        function = turn.tool_calls[0]["function"]
        text, reward, done, info = step(function["name"], json.loads(function["arguments"]))
        messages += [turn.message(), {"role": "tool", "content": text}]
        if done:
            break
    return reward, done, info
