"""`gym-pdb eval --tool-schedule`: locked tools offered and refused, or hidden from each turn (--hide-locked)."""

from __future__ import annotations

import json

from chat_server import constant_of, tool_reply, turn_of

from gym_pdb.cli import main


def pdb_first(body):
    """pdb before any rewrite, then view, the fix, pdb again, eval."""
    turn = turn_of(body)
    if turn in (0, 3):
        return tool_reply("pdb", {"command": "start"})
    if turn == 1:
        return tool_reply("view", {"path": "solution.py"})
    k = constant_of(body)
    if turn == 2 and k is not None:
        return tool_reply("rewrite", {"path": "solution.py", "start": 3, "end": 3, "new_code": f"    return x + {k}"})
    return tool_reply("eval")


def run(chat_server, add_tasks, tmp_path, *extra):
    server = chat_server(pdb_first)
    out = tmp_path / "run"
    args = [
        "eval", "--env", "PDB-Custom-v0", "--data-dir", str(add_tasks(1)), "--agent", "debug_agent",
        "--base-url", server.url, "--output", str(out), "--tasks", "all", "-q", "--max-steps", "6",
        "--tool-schedule", "debug(1)", *extra,
    ]  # fmt: skip
    assert main(args) == 0
    trajectory = json.loads(next((out / "trajectories").rglob("*.json")).read_text())
    trajectory["turns"] = json.loads(next((out / "steps").rglob("*.json")).read_text())["turns"]
    offered = [[t["function"]["name"] for t in request.get("tools") or []] for request in server.requests]
    return trajectory, offered, json.loads((out / "config.json").read_text())


def test_locked_tools_are_offered_and_their_calls_say_when_they_unlock(chat_server, add_tasks, tmp_path):
    trajectory, offered, config = run(chat_server, add_tasks, tmp_path)
    assert config["tool_schedule"] == "debug(1)" and config["hide_locked"] is False
    assert all("pdb" in names for names in offered)
    tools = [m for m in trajectory["messages"] if m["role"] == "tool"]
    assert tools[0]["content"].startswith("Error: pdb is locked: it unlocks after 1 call of rewrite (0 so far).")
    assert tools[3]["content"].startswith("Started pdb")
    assert "pdb" in [t["function"]["name"] for t in trajectory["tools"]]


def test_hide_locked_sends_each_turn_the_unlocked_tools(chat_server, add_tasks, tmp_path, capsys):
    trajectory, offered, config = run(chat_server, add_tasks, tmp_path, "--hide-locked")
    assert config["hide_locked"] is True
    assert ["pdb" in names for names in offered[:4]] == [False, False, False, True]
    assert "pdb" in [t["function"]["name"] for t in trajectory["tools"]]  # the trajectory's one list has them all
    turns = trajectory["turns"]
    assert "pdb" not in turns[0]["tools_offered"] and "pdb" in turns[3]["tools_offered"]


def test_hide_locked_without_a_schedule_is_refused(tmp_path, capsys):
    assert main(["eval", "--hide-locked", "--output", str(tmp_path / "x"), "-q"]) != 0
    assert "hide_locked needs a tool_schedule" in capsys.readouterr().err
