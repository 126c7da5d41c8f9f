"""Trajectories <-> datasets, for SFT; task lists for GRPO.

Trajectories are what ``gym-pdb eval`` writes and what SWE-PDB's SFT data
holds: one row per episode with

- ``messages``: OpenAI chat messages (system/user/assistant/tool); assistant
  ``tool_calls`` are ``[{id, type: "function", function: {name, arguments}}]``
  with ``arguments`` a JSON string; tool messages carry ``name``,
  ``tool_call_id`` and ``content``;
- ``tools``: the OpenAI function schemas offered to the model;
- ``enable_thinking``: whether the Qwen3 chat template renders thinking;
- optionally ``resolved``, ``task_id``, ``suite``;
- optionally ``subagents``: the debug tool's subagent conversations (see
  ``gym_pdb.agents.trajectory``), each a trajectory of its own:
  :func:`subagent_trajectories`, or ``load_trajectories(level="subagent")``.

:func:`load_trajectories` turns them into TRL's conversational tool-calling
format: tool-call ``arguments`` become dicts, ``tools`` stay JSON schemas, and
``enable_thinking`` goes into the per-row ``chat_template_kwargs`` that
``SFTTrainer`` passes to the chat template. Columns whose dicts differ in keys
from row to row (tool-call arguments, tool schemas) use the ``datasets.Json``
feature, so Arrow never pads them with ``None`` fields.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from gym_pdb.tasks.parquet import maybe_json

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict, Features
    from transformers import PreTrainedTokenizerBase

__all__ = [
    "read_rows",
    "convert_trajectory",
    "load_trajectories",
    "subagent_trajectories",
    "trajectory_features",
    "count_tokens",
    "load_rl_tasks",
    "write_suite",
]

logger = logging.getLogger(__name__)

MESSAGE_KEYS = ("role", "content", "reasoning_content", "tool_calls", "name", "tool_call_id")


# --------------------------------------------------------------------------- reading


def _expand(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[str] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            for ext in ("*.jsonl", "*.json", "*.parquet"):
                files += sorted(glob.glob(os.path.join(p, "**", ext), recursive=True))
        elif any(ch in p for ch in "*?["):
            files += sorted(glob.glob(p, recursive=True))
        elif os.path.exists(p):
            files.append(p)
        else:
            raise FileNotFoundError(p)
    if not files:
        raise FileNotFoundError(f"no trajectory files in {list(map(str, paths))}")
    return files


def read_rows(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[dict[str, Any]]:
    """Read raw rows from jsonl / json (a list or one object) / parquet files, folders or globs."""
    rows: list[dict[str, Any]] = []
    for path in _expand(paths):
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            rows += pq.read_table(path).to_pylist()
        elif path.endswith(".json"):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            rows += data if isinstance(data, list) else [data]
        else:
            with open(path, encoding="utf-8") as f:
                rows += [json.loads(line) for line in f if line.strip()]
    return rows


# --------------------------------------------------------------------------- conversion


def _drop_none(value: Any) -> Any:
    """Recursively drop ``None`` entries of dicts (Arrow pads struct fields with them)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _convert_tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    call = _drop_none(dict(call))
    function = dict(call.get("function") or {k: call[k] for k in ("name", "arguments") if k in call})
    arguments = maybe_json(function.get("arguments", {}))
    if arguments is None or arguments == "":
        arguments = {}
    if not isinstance(arguments, dict):
        # A model that wrote non-JSON arguments: keep the text so the row still renders what was said.
        arguments = {"raw": arguments}
    out = {"type": call.get("type", "function"), "function": {"name": function.get("name", ""), "arguments": arguments}}
    if call.get("id"):
        out["id"] = call["id"]
    return out


def _convert_message(message: Mapping[str, Any]) -> dict[str, Any]:
    m = {k: message.get(k) for k in MESSAGE_KEYS}
    if m["role"] == "assistant" and m["tool_calls"]:
        m["tool_calls"] = [_convert_tool_call(c) for c in m["tool_calls"]]
    else:
        m["tool_calls"] = None
    if m["content"] is None:
        m["content"] = ""
    elif not isinstance(m["content"], str):  # content blocks: keep their text
        m["content"] = "".join(b.get("text", "") if isinstance(b, Mapping) else str(b) for b in m["content"])
    if m["role"] != "tool":
        m["name"] = None if m["role"] != "assistant" or not m["name"] else m["name"]
        m["tool_call_id"] = None
    return m


def _convert_tools(tools: Any) -> list[dict[str, Any]]:
    tools = maybe_json(tools) or []
    out = []
    for tool in tools:
        tool = _drop_none(maybe_json(tool))
        if "function" not in tool and "name" in tool:  # bare function schema
            tool = {"type": "function", "function": tool}
        out.append(tool)
    return out


def convert_trajectory(row: Mapping[str, Any], enable_thinking: bool | None = None) -> dict[str, Any]:
    """One trajectory row (OpenAI format) -> one TRL conversational row."""
    messages = maybe_json(row["messages"])
    messages = [_convert_message(_drop_none(dict(m))) for m in messages]
    thinking = row.get("enable_thinking") if enable_thinking is None else enable_thinking
    if thinking is None:
        kwargs_in = maybe_json(row.get("chat_template_kwargs")) or {}
        thinking = kwargs_in.get("enable_thinking", True)
    resolved = row.get("resolved")
    return {
        "messages": messages,
        "tools": _convert_tools(row.get("tools")),
        "chat_template_kwargs": {"enable_thinking": bool(thinking)},
        "task_id": None if row.get("task_id") is None else str(row.get("task_id")),
        "suite": row.get("suite"),
        "resolved": None if resolved is None else bool(resolved),
        "num_turns": sum(1 for m in messages if m["role"] == "assistant"),
    }


def subagent_trajectories(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The subagent conversations of a trajectory row, as trajectory rows of their own.

    Each keeps the main episode's ``task_id``, ``suite`` and ``resolved`` (whether
    the fix it served resolved the task), and says which main turn asked.
    """
    rows = []
    for sub in maybe_json(row.get("subagents")) or []:
        rows.append({
            "messages": sub.get("messages") or [],
            "tools": sub.get("tools") or [],
            "enable_thinking": sub.get("enable_thinking", row.get("enable_thinking")),
            "task_id": row.get("task_id"),
            "suite": row.get("suite"),
            "resolved": row.get("resolved"),
            "main_turn": sub.get("turn"),
        })  # fmt: skip
    return rows


def trajectory_features() -> Features:
    """``datasets.Features`` of converted rows (``Json`` where keys vary between rows)."""
    from datasets import Features, Json, List, Value

    message = {
        "role": Value("string"),
        "content": Value("string"),
        "reasoning_content": Value("string"),
        "tool_calls": List(Json()),
        "name": Value("string"),
        "tool_call_id": Value("string"),
    }
    return Features(
        {
            "messages": List(message),
            "tools": List(Json()),
            "chat_template_kwargs": {"enable_thinking": Value("bool")},
            "task_id": Value("string"),
            "suite": Value("string"),
            "resolved": Value("bool"),
            "num_turns": Value("int32"),
        }
    )


def clean_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages of a converted row as plain dicts without ``None`` fields (for chat templates)."""
    return [{k: v for k, v in m.items() if v is not None} for m in messages]


def count_tokens(example: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase, chat_template: str | None = None) -> int:
    """Tokens of a converted row as rendered by the tokenizer's (or the given) chat template."""
    kwargs = dict(example.get("chat_template_kwargs") or {})
    ids = tokenizer.apply_chat_template(
        clean_messages(example["messages"]),
        tools=example.get("tools") or None,
        chat_template=chat_template,
        tokenize=True,
        return_dict=False,
        **kwargs,
    )
    if ids and isinstance(ids[0], list):
        ids = ids[0]
    return len(ids)


# --------------------------------------------------------------------------- loading


def _group_split(n_rows: int, groups: Sequence[str | None], val_size: float | int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of train/validation with whole groups (tasks) on one side."""
    keys: list[str] = []
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        key = g if g is not None else f"__row{i}"
        if key not in members:
            members[key] = []
            keys.append(key)
        members[key].append(i)
    rng = random.Random(seed)
    rng.shuffle(keys)
    target = int(round(val_size * n_rows)) if isinstance(val_size, float) and val_size < 1 else int(val_size)
    target = max(1, min(target, n_rows - 1)) if n_rows > 1 else 0
    val: list[int] = []
    for key in keys:
        if len(val) >= target:
            break
        if len(val) + len(members[key]) > n_rows - 1:
            continue
        val += members[key]
    val_set = set(val)
    train = [i for i in range(n_rows) if i not in val_set]
    return train, sorted(val)


def load_trajectories(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    resolved_only: bool = False,
    max_turns: int | None = None,
    max_tokens: int | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    chat_template: str | None = None,
    enable_thinking: bool | None = None,
    val_size: float | int = 0,
    seed: int = 0,
    num_proc: int | None = None,
    level: str = "main",
) -> Dataset | DatasetDict:
    """Load trajectories into TRL's conversational tool-calling format.

    Args:
        paths: jsonl / json / parquet files, folders of them, or globs.
        resolved_only: drop rows whose ``resolved`` is false. Rows without it are kept, and a
            warning says how many: SWE-PDB's SFT release has no ``resolved`` column (it holds
            the episodes its filter kept), and dropping them would leave nothing.
        max_turns: keep rows with at most this many assistant turns.
        max_tokens: keep rows whose rendered conversation (with tools) fits; needs ``tokenizer``.
        chat_template: template used to count tokens (default: the tokenizer's).
        enable_thinking: override every row's ``enable_thinking``.
        val_size: fraction (``0 < x < 1``) or number of rows held out for validation;
            rows of one task stay on the same side. 0: no split.
        seed: shuffling seed of the split.
        level: ``"main"`` (the episodes) or ``"subagent"`` (the debug tool's subagent
            conversations in them, one row each: :func:`subagent_trajectories`).

    Returns:
        a ``datasets.Dataset``, or a ``DatasetDict`` with ``train`` and ``validation`` when ``val_size``.
    """
    from datasets import Dataset, DatasetDict

    if level not in ("main", "subagent"):
        raise ValueError(f"level must be 'main' or 'subagent', not {level!r}")
    raw = read_rows(paths)
    if level == "subagent":
        raw = [sub for r in raw for sub in subagent_trajectories(r)]
    rows = [convert_trajectory(r, enable_thinking=enable_thinking) for r in raw]
    if resolved_only:
        rows = _resolved_rows(rows)
    if max_turns is not None:
        rows = [r for r in rows if r["num_turns"] <= max_turns]
    dataset = Dataset.from_list(rows, features=trajectory_features())
    if max_tokens is not None:
        if tokenizer is None:
            raise ValueError("max_tokens needs a tokenizer")
        dataset = dataset.filter(
            lambda ex: count_tokens(ex, tokenizer, chat_template) <= max_tokens,
            num_proc=num_proc if num_proc and len(dataset) >= 2 * num_proc else None,
            desc="Filtering by token count",
        )
    if not val_size:
        return dataset
    if len(dataset) < 2:
        raise ValueError(f"cannot split {len(dataset)} trajectory rows into train and validation")
    train_idx, val_idx = _group_split(len(dataset), dataset["task_id"], val_size, seed)
    return DatasetDict(train=dataset.select(train_idx), validation=dataset.select(val_idx))


def _resolved_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows not known to be unresolved; warns of those whose outcome is unknown."""
    unknown = sum(1 for r in rows if r["resolved"] is None)
    if unknown:
        logger.warning(
            "resolved_only: %d of %d trajectory rows have no 'resolved' value (as in SWE-PDB's SFT parquet); "
            "they are kept",
            unknown,
            len(rows),
        )
    return [r for r in rows if r["resolved"] is not False]


# --------------------------------------------------------------------------- RL tasks


def load_rl_tasks(path: str | os.PathLike | Sequence[str | os.PathLike]) -> list[dict[str, Any]]:
    """Read tasks in the SWE-PDB RL parquet format (jsonl and json copies too).

    Columns: ``task_id``, ``problem_statement``, ``prompt`` (a JSON list of chat
    messages), ``extra_info`` (``entrypoint``: the test command, ``files``:
    ``[{path, content}]``, ``task_name``). Returns dicts with ``task_id``,
    ``instructions`` (the problem statement), ``files``, ``test_command``.
    Each row is decoded by :func:`gym_pdb.tasks.parquet.parse_record`, the
    reader the environments use.
    """
    from gym_pdb.tasks.parquet import parse_record

    tasks = []
    for row in read_rows(path):
        record = parse_record(row)
        tasks.append(
            {
                "task_id": record.task_id,
                "instructions": record.statement,
                "files": record.files,
                "test_command": record.entrypoint,
            }
        )
    return tasks


def write_suite(tasks: Iterable[Mapping[str, Any]], root: str | os.PathLike, test_file: str = "test.py") -> Path:
    """Lay tasks out as a gym-pdb suite folder (one folder per task, test file read-only).

    The folder can be opened with ``gymnasium.make("PDB-Custom-v0", data_dir=root)``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        folder = root / task["task_id"]
        folder.mkdir(parents=True, exist_ok=True)
        for rel, text in task["files"].items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        readonly = [p for p in task["files"] if os.path.basename(p) == test_file or p.startswith("test")]
        (folder / ".debugreadonly").write_text("\n".join(readonly or [test_file]) + "\n", encoding="utf-8")
        (folder / ".debugignore").write_text("__pycache__/\n*.pyc\n.pytest_cache/\n", encoding="utf-8")
    return root
