"""The human agent, driven through `gym-pdb play` with a piped terminal."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from gym_pdb.agents.human import HumanAgent

SESSION = """help
frobnicate solution.py
view solution.py
pdb start pytest test.py::test_windows_of_two
pdb b solution.py:7
pdb c
pdb p start, len(values) - window
rewrite solution.py 6:6
    for start in range(len(values) - window + 1):
.
eval
"""


def test_play_in_a_terminal_resolves_the_demo_task(tmp_path):
    out = tmp_path / "play.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "gym_pdb.cli", "play", "--env", "PDB-Demo-v0", "--task", "running_mean", "--output", str(out)],
        input=SESSION, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pdb(command, runner?, file?)" in result.stdout  # help
    assert "There is no tool 'frobnicate'" in result.stdout  # a typo costs no step
    assert "(0, 2)" in result.stdout and "4/4 tests passed" in result.stdout
    assert "running_mean: resolved in 7 steps" in result.stdout
    row = json.loads(out.read_text())
    assert row["agent"] == "human" and row["resolved"] is True
    calls = [m["tool_calls"][0]["function"] for m in row["messages"] if m.get("tool_calls")]
    assert calls[1] == {
        "name": "pdb",
        "arguments": json.dumps({"command": "start", "runner": "pytest", "file": "test.py::test_windows_of_two"}),
    }
    assert json.loads(calls[5]["arguments"])["new_code"] == "    for start in range(len(values) - window + 1):"
    if importlib.util.find_spec("readline"):
        assert "pdb b solution.py:7" in (tmp_path / "cache" / "gym-pdb" / "play_history").read_text()


def test_end_of_input_stops_the_episode():
    lines = iter(["view solution.py"])

    def read(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    agent = HumanAgent(read=read, out=open(os.devnull, "w"))
    assert agent.act([], []).tool_calls[0]["function"]["name"] == "view"
    assert agent.act([], []).stop
