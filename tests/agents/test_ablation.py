"""The ablation configs (examples/ablation): each arm with the loopback chat server and with the expert, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chat_server import constant_of, text_reply, tool_reply

from gym_pdb.cli import main
from gym_pdb.evaluation.config import load_file

ABLATION = Path(__file__).resolve().parents[2] / "examples" / "ablation"
ARMS = ("rewrite", "pdb", "trace", "debug5", "subagent")
LEAD = {  # the first look of each arm's debugging tool, when it is offered
    "debug": ("debug", {"question": "Why does test_zero fail?"}),
    "trace": ("trace", {"target": "test.py::test_zero"}),
    "pdb": ("pdb", {"command": "start", "runner": "pytest", "file": "test.py::test_zero"}),
}


def called(body, name):
    return any(
        c.get("function", {}).get("name") == name
        for m in body["messages"]
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or []
    )


def solver(body):
    """eval, the arm's debugging tool if offered, view, the fix, eval; a subagent traces and answers."""
    if body["messages"][0]["content"].startswith("You are a debugging subagent"):
        if not called(body, "trace"):
            return tool_reply("trace", {"target": "test.py::test_zero"})
        return text_reply("add() subtracts 1 on line 3.")
    names = {t["function"]["name"] for t in body.get("tools") or []}
    if not called(body, "eval"):
        return tool_reply("eval")
    for tool, (name, arguments) in LEAD.items():
        if tool in names and not called(body, name):
            return tool_reply(name, arguments)
    if not called(body, "view"):
        return tool_reply("view", {"path": "solution.py"})
    k = constant_of(body)
    if not called(body, "rewrite") and k is not None:
        return tool_reply("rewrite", {"path": "solution.py", "start": 3, "end": 3, "new_code": f"    return x + {k}"})
    return tool_reply("eval")


def test_every_arm_covers_every_suite():
    for arm in ARMS:
        config = load_file(ABLATION / f"{arm}.yaml")
        assert set(config["env"]) == {
            "PDB-MiniNightmare-v0", "PDB-DebugBench-v0", "PDB-HumanEvalBuggy-v0", "PDB-MBPPBuggy-v0",
            "PDB-CanItEdit-v0", "PDB-SynDebug-v0", "PDB-HumanEvalFix-v0",
        }  # fmt: skip
        assert config["label"] and config["tasks"] == 100


def run_arm(arm, data, out, *extra):
    args = [
        "eval", "--config", str(ABLATION / f"{arm}.yaml"), "--env", "PDB-Custom-v0", "--data-dir", str(data),
        "--tasks", "all", "--max-steps", "10", "--output", str(out), "-q", *extra,
    ]  # fmt: skip
    assert main(args) == 0
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_the_arms_with_the_chat_server_side_by_side(chat_server, add_tasks, tmp_path, capsys):
    server = chat_server(solver)
    data = add_tasks(2)
    runs = []
    for arm in ARMS:
        rows = run_arm(arm, data, tmp_path / arm, "--base-url", server.url, "-p", "llm.max_retries=1")
        assert all(r["resolved"] for r in rows), (arm, rows)
        runs.append(str(tmp_path / arm))
        counts = rows[0]["tool_counts"]
        lead = {"pdb": "pdb", "trace": "trace", "subagent": "debug"}.get(arm)
        if lead:
            assert counts.get(lead) == 1, (arm, counts)
        if arm in ("rewrite", "debug5"):
            assert "pdb" not in counts and "trace" not in counts, (arm, counts)  # debug5: hidden until the 5th rewrite
        assert rows[0]["observation_chars"] > 0
    capsys.readouterr()
    assert main(["summarize", *runs, "--format", "markdown"]) == 0
    table = capsys.readouterr().out
    header = table.splitlines()[0]
    assert "obs chars/ep" in header and "tool mix" in header and "95% CI" in header
    for label in ("rewrite", "pdb", "trace", "debug(5)", "subagent"):
        assert f"| Custom:add_suite | {label} |" in table, table
    trace_row = next(line for line in table.splitlines() if "| trace |" in line)
    assert "eval 40% rewrite 20% trace 20% view 20%" in trace_row and "100.0% (2)" in trace_row


@pytest.mark.parametrize("arm, extra", [("pdb", []), ("trace", ["-p", "agent_kwargs.mode=trace"]), ("debug5", [])])
def test_the_arms_with_the_expert(add_tasks, tmp_path, arm, extra):
    rows = run_arm(arm, add_tasks(2), tmp_path / arm, "-p", "agent=expert", *extra)
    assert all(r["resolved"] and r["label"] == load_file(ABLATION / f"{arm}.yaml")["label"] for r in rows)
    tools = rows[0]["tool_counts"]
    if arm == "trace":
        assert tools.get("trace", 0) >= 1 and "pdb" not in tools
    else:
        assert tools.get("pdb", 0) >= 1
