"""`gym-pdb summarize` (tables and plots) and `gym-pdb replay` on runs made here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from agent_testlib import ADD_GOLD, ADD_SOLUTION, ADD_TEST, write_task
from chat_server import ChatServer, llm_config, solve_add_task

from gym_pdb.cli import main
from gym_pdb.evaluation import EvalConfig, read_results, run_eval, summarize
from gym_pdb.evaluation.summary import format_table, wilson


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """An expert run and a debug_agent run on the same five add-K tasks (the agent misses add_5)."""
    root = tmp_path_factory.mktemp("outputs")
    data = root / "add_suite"
    for k in range(1, 6):
        write_task(data, f"add_{k}", {"solution.py": ADD_SOLUTION.format(k=k), "test.py": ADD_TEST.format(k=k)},
                   {"solution.py": ADD_GOLD.format(k=k)})  # fmt: skip
    common = dict(env=["PDB-Custom-v0"], data_dir=str(data), n_parallel=2, max_steps=10)
    expert = run_eval(EvalConfig(agent="expert", output=str(root / "expert"), **common), progress=False)

    def solver(body):
        if "x + 5 - 1" in json.dumps(body["messages"]):
            return solve_add_task({"messages": body["messages"][:4]})  # stuck: views forever
        return solve_add_task(body)

    with ChatServer(solver) as server:
        config = EvalConfig(agent="debug_agent", output=str(root / "llm"), llm=llm_config(server), **common)
        llm = run_eval(config, progress=False)
    assert not expert.errors and not llm.errors
    return {"expert": expert.run_dir, "llm": llm.run_dir, "root": root}


def test_wilson_interval():
    lo, hi = wilson(8, 10)
    assert round(lo, 3) == 0.490 and round(hi, 3) == 0.943
    assert wilson(0, 0) == (0.0, 0.0) and wilson(5, 5)[1] == 1.0


def test_summary_table_per_suite_agent_model(runs):
    groups = summarize(read_results([runs["expert"], runs["llm"]]))
    by_agent = {g.agent: g for g in groups}
    expert, llm = by_agent["expert"], by_agent["debug_agent"]
    assert (expert.episodes, expert.resolved, expert.model) == (5, 5, "scripted")
    assert (llm.episodes, llm.resolved, llm.model) == (5, 4, "scripted-qwen3")
    assert expert.per_episode(expert.tools["pdb"]) == 4.0 and llm.tools.get("pdb", 0) == 0
    assert llm.per_episode(llm.steps) == (4 * 4 + 10) / 5
    table = format_table(groups, "markdown")
    row = next(line for line in table.splitlines() if "| debug_agent |" in line)
    assert row.startswith("| Custom:add_suite | debug_agent | scripted-qwen3 | 5 | 80.0% (4) | 37.6-96.4% | 5.2 | 0.0 | 0.8 | ")
    assert row.endswith(" | view 50% eval 35% rewrite 15% | 0 |")
    assert int(row.split("|")[10]) == round(llm.observation_chars / 5) > 0


def test_summarize_command_writes_plots(runs, capsys):
    pytest.importorskip("matplotlib")
    plots = runs["root"] / "plots"
    assert main(["summarize", str(runs["expert"]), str(runs["llm"]), "--plots", str(plots)]) == 0
    out = capsys.readouterr().out
    assert "expert" in out and "debug_agent" in out and "resolve_rate_by_suite.png" in out
    for name in ("resolve_rate_by_suite.png", "tool_mix.png", "resolve_rate_by_budget.png"):
        data = (plots / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_summarize_without_results_says_so(tmp_path, capsys):
    assert main(["summarize", str(tmp_path)]) == 2
    assert "no results.jsonl" in capsys.readouterr().err


def test_replay_of_produced_trajectories_reports_no_differences(runs, capsys):
    for run in ("expert", "llm"):
        for path in sorted((runs[run] / "trajectories").rglob("*.json"))[:2]:
            assert main(["replay", str(path), "--data-dir", str(runs["root"] / "add_suite")]) == 0, path
            assert "no differences" in capsys.readouterr().out


def test_replay_reports_a_step_that_differs(runs, tmp_path, capsys):
    source = runs["expert"] / "trajectories" / "add_suite" / "add_2.json"
    row = json.loads(source.read_text())
    tools = [m for m in row["messages"] if m["role"] == "tool"]
    assert tools[5]["content"].startswith("0\n")  # p x, stopped in test_zero
    tools[5]["content"] = "7" + tools[5]["content"][1:]
    tampered = tmp_path / "tampered.jsonl"
    shutil.copy(source, tmp_path / "ok.json")
    tampered.write_text(json.dumps(json.loads((tmp_path / "ok.json").read_text())) + "\n" + json.dumps(row) + "\n")
    args = ["replay", str(tampered), "--index", "1", "--data-dir", str(runs["root"] / "add_suite")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert 'step 6: pdb {"command": "p x"}' in out and "-7\n+0\n" in out and "1 steps differ" in out


def test_replay_of_a_parquet_row_in_swe_pdb_columns_with_a_task_folder(runs, tmp_path, capsys):
    """SWE-PDB's SFT rows: messages, enable_thinking, tools; no task_id or suite, so the task comes as a folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for k in (1, 2):
        row = json.loads((runs["expert"] / "trajectories" / "add_suite" / f"add_{k}.json").read_text())
        rows.append({"messages": row["messages"], "enable_thinking": row["enable_thinking"], "tools": row["tools"]})
    path = tmp_path / "sft_test.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    task_dir = runs["root"] / "add_suite" / "add_2"
    assert main(["replay", str(path), "--index", "1", "--task-dir", str(task_dir)]) == 0
    out = capsys.readouterr().out
    assert "of PDB-Custom-v0 task add_2: no differences" in out
    # Row 0 is add_1's episode: replayed on add_2 it differs, and replay says where.
    assert main(["replay", str(path), "--index", "0", "--task-dir", str(task_dir)]) == 1
    assert "steps differ" in capsys.readouterr().out
    assert main(["replay", str(path), "--index", "1"]) == 2
    assert "cannot tell the env" in capsys.readouterr().err
    assert main(["replay", str(path), "--index", "5", "--task-dir", str(task_dir)]) == 2
