"""Trajectories -> TRL conversational tool-calling datasets; RL task files."""

from __future__ import annotations

import json

import pytest
from trainers_testlib import REPO, SHARED_DATA, require_train_extra

require_train_extra()

from trainers.data import (  # noqa: E402
    clean_messages,
    count_tokens,
    load_rl_tasks,
    load_trajectories,
    read_rows,
    write_suite,
)

RL_PARQUET = SHARED_DATA / "rl_test.parquet"


def test_conversion_to_trl_format(trajectories_path):
    ds = load_trajectories(trajectories_path)
    assert len(ds) == 5
    assert set(ds.column_names) == {
        "messages", "tools", "chat_template_kwargs", "task_id", "suite", "resolved", "num_turns"
    }  # fmt: skip
    row = ds[0]
    assert row["chat_template_kwargs"] == {"enable_thinking": False}
    assert ds[1]["chat_template_kwargs"] == {"enable_thinking": True}
    assert row["task_id"] == "config" and row["suite"] == "mini_nightmare" and row["resolved"] is True
    assert row["num_turns"] == sum(m["role"] == "assistant" for m in row["messages"])

    # Tool-call arguments are dicts with exactly their own keys (no Arrow padding with None).
    calls = [c for m in row["messages"] if m["role"] == "assistant" for c in (m["tool_calls"] or [])]
    assert calls[0]["function"] == {"name": "view", "arguments": {"path": "config_code.py"}}
    start = next(c for c in calls if c["function"]["name"] == "pdb")
    assert start["function"]["arguments"] == {"command": "start", "runner": "pytest", "file": "test.py"}
    rewrite = next(c for c in calls if c["function"]["name"] == "rewrite")
    assert set(rewrite["function"]["arguments"]) == {"path", "start", "end", "new_code"}
    assert isinstance(rewrite["function"]["arguments"]["start"], int)
    assert next(c for c in calls if c["function"]["name"] == "eval")["function"]["arguments"] == {}

    # Tools stay JSON schemas, each with its own properties.
    tools = {t["function"]["name"]: t for t in row["tools"]}
    assert set(tools) >= {"pdb", "rewrite", "view", "eval", "grep"}
    assert set(tools["eval"]["function"]["parameters"]["properties"]) == set()
    assert set(tools["pdb"]["function"]["parameters"]["properties"]) == {"command", "runner", "file"}

    # Tool messages keep name and content.
    tool_msgs = [m for m in row["messages"] if m["role"] == "tool"]
    assert tool_msgs[1]["name"] == "pdb" and "(Pdb)" in tool_msgs[1]["content"]


def test_rendering_matches_the_original_rows(trajectories_path, tokenizer):
    raw = read_rows(trajectories_path)[1]
    ds = load_trajectories(trajectories_path)
    text = tokenizer.apply_chat_template(
        clean_messages(ds[1]["messages"]), tools=ds[1]["tools"], tokenize=False, enable_thinking=True
    )
    # The same calls, rendered from the JSON strings of the source rows.
    for message in raw["messages"]:
        for call in message.get("tool_calls") or []:
            args = json.loads(call["function"]["arguments"])
            rendered = json.dumps({"name": call["function"]["name"], "arguments": args}, ensure_ascii=False)
            assert rendered in text
    assert text.count("<tool_response>") == sum(m["role"] == "tool" for m in raw["messages"])
    assert '{"type": "function", "function": {"name": "pdb"' in text  # the tool schemas, in the system prompt


def test_parquet_and_many_files(trajectories_path, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = read_rows(trajectories_path)
    # Arrow unifies the tool schemas into one struct, padding missing keys with None: the loader drops them.
    pq.write_table(pa.Table.from_pylist(rows[:3]), tmp_path / "a.parquet")
    (tmp_path / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[3:]))
    ds = load_trajectories([tmp_path / "a.parquet", tmp_path / "b.jsonl"])
    assert len(ds) == 5
    assert ds[0]["messages"] == load_trajectories(trajectories_path)[0]["messages"]
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in ds[0]["tools"]}
    assert set(tools["eval"]["properties"]) == set() and "command" not in tools["view"]["properties"]
    assert len(load_trajectories(tmp_path)) == 5  # a folder
    assert len(load_trajectories(str(tmp_path / "*.jsonl"))) == 2  # a glob


def test_filters(trajectories_path, tokenizer):
    assert len(load_trajectories(trajectories_path, resolved_only=True)) == 4
    turns = load_trajectories(trajectories_path)["num_turns"]
    assert sorted(turns) == [3, 4, 7, 11, 15]
    assert len(load_trajectories(trajectories_path, max_turns=7)) == 3
    lengths = [count_tokens(r, tokenizer) for r in load_trajectories(trajectories_path)]
    limit = sorted(lengths)[2]
    kept = load_trajectories(trajectories_path, max_tokens=limit, tokenizer=tokenizer)
    assert len(kept) == 3
    assert all(count_tokens(r, tokenizer) <= limit for r in kept)
    with pytest.raises(ValueError):
        load_trajectories(trajectories_path, max_tokens=10)


def test_split_keeps_tasks_together(trajectories_path):
    split = load_trajectories(trajectories_path, val_size=0.4, seed=3)
    train, val = split["train"], split["validation"]
    assert len(train) + len(val) == 5 and len(val) >= 1 and len(train) >= 1
    assert not set(train["task_id"]) & set(val["task_id"])
    again = load_trajectories(trajectories_path, val_size=0.4, seed=3)
    assert again["validation"]["task_id"] == val["task_id"]
    assert len(load_trajectories(trajectories_path, val_size=1)["validation"]) >= 1


def test_enable_thinking_override(trajectories_path):
    ds = load_trajectories(trajectories_path, enable_thinking=True)
    assert all(r["enable_thinking"] for r in ds["chat_template_kwargs"])


@pytest.mark.skipif(not RL_PARQUET.is_file(), reason="shared data not present")
def test_rl_tasks_and_suite_layout(tmp_path):
    tasks = load_rl_tasks(RL_PARQUET)
    assert len(tasks) == 100
    first = tasks[0]
    assert first["task_id"].startswith("acecode_")
    assert "test.py" in first["files"] and any(p.endswith("_code.py") for p in first["files"])
    assert "fix it so that all tests pass" in first["instructions"]
    root = write_suite(tasks[:2], tmp_path / "suite")
    folder = root / first["task_id"]
    assert (folder / "test.py").read_text() == first["files"]["test.py"]
    assert (folder / ".debugreadonly").read_text().split() == ["test.py"]


def swe_pdb_sft_parquet(trajectories_path, path):
    """A parquet in the columns of SWE-PDB's SFT release: messages, enable_thinking, tools (nullable types).

    Its tool schemas are as SWE-PDB's agent sent them: every type a list, the optional ones with
    "null", every parameter required, no extra properties. No resolved, task_id or suite column.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def nullable(tool):
        params = tool["function"]["parameters"]
        required = set(params.get("required", []))
        props = {
            name: {**spec, "type": [spec["type"]] + ([] if name in required else ["null"])}
            for name, spec in params["properties"].items()
        }
        function = {**tool["function"], "parameters": {"type": "object", "properties": props, "additionalProperties": False}}
        if props:
            function["parameters"]["required"] = list(props)
        return {"type": "function", "function": function}

    rows = [
        {"messages": r["messages"], "enable_thinking": r["enable_thinking"], "tools": [nullable(t) for t in r["tools"]]}
        for r in read_rows(trajectories_path)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_swe_pdb_sft_parquet_loads_as_it_is(trajectories_path, tmp_path, caplog):
    path = swe_pdb_sft_parquet(trajectories_path, tmp_path / "sft_test.parquet")
    import pyarrow.parquet as pq

    assert pq.read_schema(path).names == ["messages", "enable_thinking", "tools"]
    with caplog.at_level("WARNING", logger="trainers.data"):
        ds = load_trajectories(path, resolved_only=True)
    assert len(ds) == 5 and ds["resolved"] == [None] * 5
    assert "5 of 5 trajectory rows have no 'resolved' value" in caplog.text
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in ds[0]["tools"]}
    assert tools["view"]["properties"]["start"]["type"] == ["integer", "null"]
    assert tools["view"]["additionalProperties"] is False
    assert ds[0]["messages"] == load_trajectories(trajectories_path)[0]["messages"]
    # Rows known to be unresolved still go.
    assert len(load_trajectories(trajectories_path, resolved_only=True)) == 4


def test_shipped_sft_configs_take_the_swe_pdb_parquet(trajectories_path, tmp_path, tokenizer):
    import yaml

    from trainers.sft import SFTDataArguments, load_sft_datasets

    path = swe_pdb_sft_parquet(trajectories_path, tmp_path / "sft.parquet")
    configs = sorted((REPO / "examples" / "configs").glob("sft_*.yaml"))
    assert configs
    for config in configs:
        values = yaml.safe_load(config.read_text())
        fields = {k: v for k, v in values.items() if k in SFTDataArguments.__dataclass_fields__}
        assert fields["resolved_only"] is True, config
        data_args = SFTDataArguments(**{**fields, "train_files": [str(path)]})
        train, val = load_sft_datasets(data_args, tokenizer, max_length=None)
        assert len(train) + len(val or []) == 5, config
