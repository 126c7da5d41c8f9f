"""Fixtures for the agent and evaluation tests: a scripted chat server, folders of small tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from agent_testlib import ADD_GOLD, ADD_SOLUTION, ADD_TEST, write_task
from chat_server import ChatServer, Script, solve_add_task


@pytest.fixture
def add_tasks(tmp_path) -> Callable[[int], Path]:
    """``add_tasks(n)``: a folder of n tasks ``add_<k>`` (k = 1..n), each with one bug and its gold fix."""

    def make(n: int) -> Path:
        root = tmp_path / "add_suite"
        for k in range(1, n + 1):
            write_task(
                root,
                f"add_{k}",
                {"solution.py": ADD_SOLUTION.format(k=k), "test.py": ADD_TEST.format(k=k)},
                {"solution.py": ADD_GOLD.format(k=k)},
            )
        return root

    return make


@pytest.fixture
def chat_server():
    """``chat_server(responder)``: a started ChatServer (stopped after the test); a list is a Script."""
    servers = []

    def start(responder=solve_add_task) -> ChatServer:
        if isinstance(responder, list):
            responder = Script(responder)
        server = ChatServer(responder).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)
