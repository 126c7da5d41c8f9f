"""`gym-pdb replay --profile swe-pdb` of a trajectory in SWE-PDB's SFT columns, made from the oracle's recording."""

from __future__ import annotations

import json
from pathlib import Path

from gym_pdb.cli import main

RECORDING = json.loads((Path(__file__).parent / "data" / "swe_pdb_oracle.json").read_text())


def sft_row(episode: dict) -> dict:
    """The episode as SWE-PDB's SFT parquet holds one: messages (arguments as JSON text), enable_thinking, tools."""
    messages: list[dict] = [{"role": "system", "content": "You are a debugging assistant."}]
    for i, (call, observation) in enumerate(zip(episode["calls"], episode["observations"], strict=True)):
        call_id = f"call_{i}"
        function = {"name": call["name"], "arguments": json.dumps(call["arguments"])}
        messages.append({"role": "assistant", "content": "", "tool_calls": [{"id": call_id, "type": "function",
                                                                            "function": function}]})  # fmt: skip
        messages.append({"role": "tool", "tool_call_id": call_id, "name": call["name"], "content": observation})
    tools = [{"type": "function", "function": {"name": n, "description": "", "parameters": {}}}
             for n in ("grep", "pdb", "view", "rewrite", "eval")]  # fmt: skip
    return {"messages": json.dumps(messages), "enable_thinking": False, "tools": json.dumps(tools)}


def test_replay_of_swe_pdbs_observations_and_the_first_divergence(tmp_path, data_dir, capsys, release):
    import pyarrow as pa
    import pyarrow.parquet as pq

    episode = next(e for e in RECORDING if e["suite"] == "HumanEvalBuggy")
    good = sft_row(episode)
    tampered = dict(good)
    messages = json.loads(good["messages"])
    answers = [m for m in messages if m["role"] == "tool"]
    answers[6]["content"] = answers[6]["content"].replace("42", "41")  # p 6 * 7
    tampered["messages"] = json.dumps(messages)
    path = tmp_path / "sft_test.parquet"
    pq.write_table(pa.Table.from_pylist([good, tampered]), path)
    task_dir = data_dir / "humaneval_buggy" / episode["task"]
    common = ["replay", str(path), "--task-dir", str(task_dir), "--profile", "swe-pdb"]

    assert main([*common, "--index", "0"]) == 0
    assert "no differences" in capsys.readouterr().out
    assert main([*common, "--index", "1"]) == 1
    out = capsys.readouterr().out
    assert 'first divergence: step 7: pdb {"command": "p 6 * 7"}' in out and "1 steps differ" in out
