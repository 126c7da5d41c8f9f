"""Two real runs on the same Demo tasks, made once for the viewer's tests.

``expert``: the scripted expert resolves both tasks. ``llm``: debug_agent
against a real chat server on loopback: on running_mean it thinks, reads the
program and stops at a breakpoint when its four steps run out; on inventory
the server refuses the request, so that episode ends with an error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents"))
from chat_server import MODEL, ChatServer, Status, tool_reply  # noqa: E402

from gym_pdb.cli import main  # noqa: E402

TASKS = ["running_mean", "inventory"]
LLM_TURNS = [
    tool_reply("pdb", {"command": "start", "runner": "pytest", "file": "test.py::test_windows_of_two"}),
    tool_reply("pdb", {"command": "b solution.py:6"}, content="The loop's range looks short: a breakpoint on it."),
    tool_reply("pdb", {"command": "c"}),
]


def llm_responder(body: dict) -> object:
    messages = body["messages"]
    turn = sum(m["role"] == "assistant" for m in messages)
    if turn == 0:
        return tool_reply(
            "view", {"path": "solution.py"}, content="Let me read the program.",
            reasoning_content="Some tests fail. I should read the program before I debug it.",
        )  # fmt: skip
    if "def running_mean" not in json.dumps(messages):
        return Status(400, "the prompt is too long for this model")
    return LLM_TURNS[min(turn - 1, len(LLM_TURNS) - 1)]


@pytest.fixture(scope="session")
def viewer_runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("viewer-runs")
    common = ["eval", "--env", "PDB-Demo-v0", "--tasks", *TASKS, "-q", "--format", "markdown"]
    assert main([*common, "--agent", "expert", "-o", str(root / "expert")]) == 0
    with ChatServer(llm_responder) as server:
        llm = ["--agent", "debug_agent", "--base-url", server.url, "--model", MODEL, "--max-steps", "4"]
        assert main([*common, *llm, "-o", str(root / "llm")]) == 1  # one episode ended with an error
    return {"expert": root / "expert", "llm": root / "llm", "root": root}
