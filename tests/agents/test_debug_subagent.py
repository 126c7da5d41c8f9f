"""debug_subagent: the main agent asks, a subagent with pdb, trace and view investigates; both levels kept."""

from __future__ import annotations

import json

from chat_server import constant_of, text_reply, tool_reply, turn_of

from gym_pdb.cli import main
from gym_pdb.env import PDBEnv
from trainers.data import convert_trajectory, load_trajectories, subagent_trajectories

FINDINGS = "add(0) returns K-1: solution.py line 3 subtracts 1; it should return x + K."


def responder(body):
    if body["messages"][0]["content"].startswith("You are a debugging subagent"):
        turn = turn_of(body)
        if turn == 0:
            return tool_reply("trace", {"target": "test.py::test_zero", "function": "add"})
        if turn == 1:  # not one of its tools: refused, and nothing changes
            return tool_reply("rewrite", {"path": "solution.py", "new_code": "def add(x):\n    return 0\n"})
        if turn == 2:
            return tool_reply("pdb", {"command": "start", "runner": "pytest", "file": "test.py::test_zero"})
        return text_reply(FINDINGS)
    turn = turn_of(body)
    if turn == 0:
        return tool_reply("debug", {"question": "Why does test_zero fail?"})
    if turn == 1:
        return tool_reply("view", {"path": "solution.py"})
    k = constant_of(body)
    if turn == 2 and k is not None:
        return tool_reply("rewrite", {"path": "solution.py", "start": 3, "end": 3, "new_code": f"    return x + {k}"})
    return tool_reply("eval")


def test_the_subagent_investigates_and_both_levels_are_kept(chat_server, add_tasks, tmp_path):
    server = chat_server(responder)
    out = tmp_path / "run"
    args = [
        "eval", "--env", "PDB-Custom-v0", "--data-dir", str(add_tasks(1)), "--agent", "debug_subagent",
        "--base-url", server.url, "--output", str(out), "--tasks", "all", "-q", "--max-steps", "8",
        "--subagent-model", "small-debugger",
    ]  # fmt: skip
    assert main(args) == 0
    (row,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert row["resolved"] and row["tool_counts"] == {"debug": 1, "view": 1, "rewrite": 1, "eval": 1}

    main_requests = [r for r in server.requests if not r["messages"][0]["content"].startswith("You are a debugging subagent")]
    sub_requests = [r for r in server.requests if r not in main_requests]
    assert {t["function"]["name"] for t in main_requests[0]["tools"]} == {"rewrite", "view", "eval", "debug"}
    assert {t["function"]["name"] for t in sub_requests[0]["tools"]} == {"pdb", "trace", "view"}
    assert all(r["model"] == "small-debugger" for r in sub_requests) and len(sub_requests) == 4
    assert all(r["model"] != "small-debugger" for r in main_requests)
    assert "Why does test_zero fail?" in sub_requests[0]["messages"][1]["content"]

    trajectory = json.loads(next((out / "trajectories").rglob("*.json")).read_text())
    tool_messages = [m for m in trajectory["messages"] if m["role"] == "tool"]
    assert tool_messages[0]["content"] == "The debugging subagent's findings:\n" + FINDINGS
    (sub,) = trajectory["subagents"]
    assert sub["turn"] == 1 and sub["question"] == "Why does test_zero fail?" and sub["steps"] == 3
    assert sub["model"] == "small-debugger"
    observations = [m["content"] for m in sub["messages"] if m["role"] == "tool"]
    assert observations[0].startswith("Trace of test.py::test_zero") and "#1 solution.py:add(x=0) -> 0" in observations[0]
    assert observations[1] == "Error: there is no tool 'rewrite' here; the tools are pdb, trace, view."
    assert observations[2].startswith("Started pdb")
    assert sub["messages"][-1]["content"] == FINDINGS

    steps = json.loads(next((out / "steps").rglob("*.json")).read_text())["turns"]
    assert steps[0]["tool"] == "debug" and steps[0]["subagent"]["messages"] == sub["messages"]

    main_rows = load_trajectories(out / "trajectories")
    assert len(main_rows) == 1 and main_rows[0]["messages"][0]["content"].startswith("You are a debugging assistant")
    sub_rows = load_trajectories(out / "trajectories", level="subagent")
    assert len(sub_rows) == 1 and sub_rows[0]["messages"][-1]["content"] == FINDINGS
    assert sub_rows[0]["resolved"] and sub_rows[0]["num_turns"] == 4
    (extracted,) = subagent_trajectories(trajectory)
    assert extracted["main_turn"] == 1 and convert_trajectory(extracted)["tools"][0]["function"]["name"] == "pdb"


def test_the_subagent_is_held_to_its_step_budget(chat_server, add_tasks, tmp_path):
    def stubborn(body):
        if body["messages"][0]["content"].startswith("You are a debugging subagent"):
            if not body.get("tools"):
                return text_reply("I ran out of steps: add() is off by one.")
            return tool_reply("view", {"path": "solution.py"})
        return tool_reply("debug", {"question": "what is wrong?"}) if turn_of(body) == 0 else tool_reply("eval")

    server = chat_server(stubborn)
    out = tmp_path / "run"
    args = [
        "eval", "--env", "PDB-Custom-v0", "--data-dir", str(add_tasks(1)), "--agent", "debug_subagent",
        "--base-url", server.url, "--output", str(out), "--tasks", "all", "-q", "--max-steps", "2",
        "-p", "agent_kwargs.subagent_steps=2",
    ]  # fmt: skip
    assert main(args) == 0
    trajectory = json.loads(next((out / "trajectories").rglob("*.json")).read_text())
    (sub,) = trajectory["subagents"]
    assert sub["steps"] == 2 and sub["messages"][-2]["content"].startswith("Your step budget is spent")
    assert "I ran out of steps" in [m for m in trajectory["messages"] if m["role"] == "tool"][0]["content"]


def test_the_debug_tool_without_a_subagent_says_so():
    env = PDBEnv(suite="Demo", tools=["view", "eval", "debug"], sandbox="local")
    try:
        env.reset(options={"task_id": "inventory"})
        obs, reward, *_ = env.step("debug why does it fail?")
        assert obs.startswith("Error: no debugging subagent is attached") and reward == 0.0
    finally:
        env.close()
