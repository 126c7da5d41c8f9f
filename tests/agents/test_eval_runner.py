"""`gym-pdb eval`: parallel runs against a real chat server, outputs, resume, configuration."""

from __future__ import annotations

import json
import threading

import pytest
from chat_server import Status, solve_add_task, text_reply, tool_reply, turn_of

from gym_pdb.cli import main
from gym_pdb.evaluation.results import read_rows
from tests.conftest import require_backend
from trainers.data import convert_trajectory


def eval_args(server, data, out, *extra):
    return [
        "eval", "--env", "PDB-Custom-v0", "--data-dir", str(data), "--agent", "debug_agent",
        "--base-url", server.url, "--output", str(out), "--tasks", "all", "-q",
        "-p", "llm.max_retries=1", "-p", "llm.backoff=0.01", *extra,
    ]  # fmt: skip


def test_parallel_eval_of_8_tasks_with_4_workers(chat_server, add_tasks, tmp_path, capsys):
    barrier = threading.Barrier(4, timeout=20)
    overlapped = []

    def solver(body):
        if turn_of(body) == 0 and not barrier.broken:  # first requests wait for 3 others (the barrier is cyclic)
            try:
                barrier.wait()
                overlapped.append(True)
            except threading.BrokenBarrierError:
                pass
        return solve_add_task(body)

    server = chat_server(solver)
    out = tmp_path / "run"
    assert main(eval_args(server, add_tasks(8), out, "--n-parallel", "4", "--max-steps", "6")) == 0
    assert len(overlapped) == 8  # two rounds of four episodes in flight at once

    rows = read_rows(out)
    assert sorted(r["task_id"] for r in rows) == [f"add_{k}" for k in range(1, 9)]
    for row in rows:
        assert row["resolved"] and row["error"] == "" and row["steps"] == 4 and row["turns"] == 4
        assert row["agent"] == "debug_agent" and row["model"] == "scripted-qwen3" and row["env_id"] == "PDB-Custom-v0"
        assert row["tool_counts"] == {"eval": 2, "view": 1, "rewrite": 1}
        assert row["tokens"]["prompt"] > 0 and row["tokens"]["completion"] == 80 and row["wall_time"] > 0
        k = row["task_id"].split("_")[1]
        assert f"+    return x + {k}\n" in (out / row["patch"]).read_text()
        trajectory = json.loads((out / row["trajectory"]).read_text())
        assert trajectory["task_id"] == row["task_id"] and trajectory["resolved"] is True
        assert set(trajectory) >= {
            "messages",
            "tools",
            "enable_thinking",
            "task_id",
            "suite",
            "resolved",
            "agent",
            "model",
        }
        converted = convert_trajectory(trajectory)  # the SFT trainer's reader takes it as is
        assert converted["num_turns"] == 4 and converted["messages"][2]["tool_calls"][0]["function"]["name"] == "eval"
    config = json.loads((out / "config.json").read_text())
    assert config["n_parallel"] == 4 and config["llm"]["model"] == "scripted-qwen3"
    printed = capsys.readouterr().out
    assert "Custom:add_suite  debug_agent  scripted-qwen3  8  100.0% (8)" in printed
    assert (out / "summary.md").read_text().startswith("| suite | agent | model |")


def test_resume_skips_finished_tasks_and_reruns_errors_and_failures(chat_server, add_tasks, tmp_path, capsys):
    mode = {"broken": True}

    def flaky(body):
        turn = turn_of(body)
        text = json.dumps(body["messages"])
        if mode["broken"] and "x + 3 - 1" in text and turn == 2:
            return Status(500, "the GPU fell over")
        if mode["broken"] and "x + 4 - 1" in text and turn >= 2:
            return text_reply("I am not sure what to do.")
        return solve_add_task(body)

    server = chat_server(flaky)
    data, out = add_tasks(4), tmp_path / "run"
    assert main(eval_args(server, data, out, "--n-parallel", "2")) == 1  # an episode ended with an error
    rows = {r["task_id"]: r for r in read_rows(out)}
    assert rows["add_3"]["error"].startswith("model: ") and "HTTP 500" in rows["add_3"]["error"]
    assert (
        rows["add_4"]["stop_reason"] == "no_tool_call" and not rows["add_4"]["resolved"] and not rows["add_4"]["error"]
    )
    assert rows["add_1"]["resolved"] and rows["add_2"]["resolved"]
    assert "rerun them with: gym-pdb eval --resume" in capsys.readouterr().err

    assert main(eval_args(server, data, out)) == 2  # the folder holds a run: no silent overwrite
    assert "pass --resume" in capsys.readouterr().err

    mode["broken"] = False
    first_requests = len(server.requests)
    assert main(["eval", "--resume", "--output", str(out), "-q"]) == 0  # the rest of the config comes from the run
    assert "3 episodes done, 1 to run" in capsys.readouterr().err
    assert len(server.requests) - first_requests == 4  # one episode: add_3
    assert {r["task_id"]: r["resolved"] for r in read_rows(out)} == {
        "add_1": True, "add_2": True, "add_3": True, "add_4": False,
    }  # fmt: skip

    assert main(["eval", "--resume", "--rerun-failed", "--output", str(out), "-q"]) == 0
    assert all(r["resolved"] for r in read_rows(out))
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 6  # 4 + add_3 again + add_4 again; the last row of a task counts
    assert "Custom:add_suite  debug_agent  scripted-qwen3  4  100.0% (4)" in capsys.readouterr().out


def test_config_file_and_overrides(chat_server, add_tasks, tmp_path):
    pytest.importorskip("yaml")
    server = chat_server(solve_add_task)
    config = tmp_path / "eval.yaml"
    config.write_text(
        f"env: [PDB-Custom-v0]\ndata_dir: {add_tasks(3)}\nagent: rewrite_agent\ntasks: [add_2]\nmax_steps: 2\n"
        f"llm:\n  base_url: {server.url}\n  temperature: 0.2\n  enable_thinking: false\n"
    )
    out = tmp_path / "run"
    args = [
        "eval",
        "--config",
        str(config),
        "-p",
        "max_steps=5",
        "-p",
        "llm.temperature=0.7",
        "--output",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    (row,) = read_rows(out)
    assert row["task_id"] == "add_2" and row["agent"] == "rewrite_agent" and row["max_steps"] == 5 and row["resolved"]
    request = server.requests[0]
    assert request["temperature"] == 0.7 and request["chat_template_kwargs"] == {"enable_thinking": False}
    assert "pdb" not in {t["function"]["name"] for t in request["tools"]}


def test_bad_configuration_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", "-p", "no_such_key=1", "--output", str(tmp_path / "a")]) == 2
    assert "unknown config keys: no_such_key" in capsys.readouterr().err
    assert (
        main(["eval", "--env", "PDB-Demo-v0", "--agent", "expert", "--tasks", "nope", "--output", str(tmp_path / "b")])
        == 2
    )
    assert "no task nope in PDB-Demo-v0" in capsys.readouterr().err


def test_compose_flags_are_accepted(chat_server, tmp_path):
    server = chat_server([tool_reply("eval")] * 3)
    out = tmp_path / "runs"
    args = ["eval", "--env=PDB-Demo-v0", "--model=scripted-qwen3", f"--base-url={server.url}", f"--output={out}",
            "--tasks=inventory", "--max-steps=1", "-q"]  # fmt: skip
    assert main(args) == 0
    assert read_rows(out)[0]["stop_reason"] == "max_steps"


def test_expert_eval_on_the_docker_sandbox(tmp_path, capsys):
    require_backend("docker")
    out = tmp_path / "run"
    args = ["eval", "--env", "PDB-Demo-v0", "--agent", "expert", "--sandbox", "docker", "--tasks", "inventory",
            "running_mean", "--n-parallel", "2", "--output", str(out), "-q"]  # fmt: skip
    assert main(args) == 0
    rows = read_rows(out)
    assert len(rows) == 2 and all(r["resolved"] and r["tool_counts"]["pdb"] == 4 for r in rows)
    assert "Demo   expert  scripted  2  100.0% (2)" in capsys.readouterr().out
