"""Fixtures for the agent and evaluation tests: a scripted chat server, folders of small tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from chat_server import ChatServer, Script, solve_add_task

ADD_SOLUTION = '''def add(x):
    """Add {k} to x."""
    return x + {k} - 1
'''
ADD_GOLD = '''def add(x):
    """Add {k} to x."""
    return x + {k}
'''
ADD_TEST = """from solution import add


def test_zero():
    assert add(0) == {k}


def test_one():
    assert add(1) == {k} + 1
"""


def write_task(root: Path, name: str, files: dict[str, str], gold: dict[str, str] | None = None) -> Path:
    """A task folder in the suite layout (tests read-only, .gold/ hidden)."""
    folder = root / name
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / path).write_text(text)
    (folder / ".debugreadonly").write_text("test.py\n")
    (folder / ".debugignore").write_text("__pycache__/\n*.pyc\n.gold/\n")
    for path, text in (gold or {}).items():
        (folder / ".gold").mkdir(exist_ok=True)
        (folder / ".gold" / path).write_text(text)
    return folder


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
