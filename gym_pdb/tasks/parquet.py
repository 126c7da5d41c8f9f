"""Tasks from the SWE-PDB RL parquet format (``rl_test.parquet`` and the RL training set).

One row per task: ``task_id``, ``problem_statement``, ``prompt`` (the chat
the paper's trainer starts from, as JSON) and ``extra_info`` with
``entrypoint`` (the test command, ``python -m pytest ... test.py``),
``files`` (``[{path, content}]``: the buggy program and the tests) and
``task_name``. Use them with ``PDBEnv(tasks=load_parquet(path))`` or
``gym.make("PDB-Custom-v0", data_dir="rl_test.parquet")``.

:func:`parse_record` is the one reader of a row; the trainers' task lists
(``trainers.data.load_rl_tasks``) go through it too, so both read the format
the same way (JSON-encoded columns, files as a list or a mapping, the
statement taken from the prompt when the column is empty).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from gym_pdb.tasks.source import TaskDict
from gym_pdb.tasks.task import DEFAULT_INSTRUCTIONS, Task

HIDDEN = ["__pycache__/", "*.py[cod]", ".pytest_cache/"]


@dataclass(frozen=True)
class RLRecord:
    """One row of the format, decoded: what a task is made of."""

    task_id: str
    statement: str
    files: dict[str, str]
    entrypoint: str
    task_name: str | None
    prompt: Any


def parquet_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a parquet file as dicts (pyarrow, else pandas)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(f"reading {path} needs pyarrow or pandas: pip install pyarrow") from exc
        # Parquet column names are strings (pandas types them as any hashable).
        rows = cast("list[dict[str, Any]]", pd.read_parquet(path).to_dict("records"))
        return rows
    return pq.read_table(path).to_pylist()


def maybe_json(value: Any) -> Any:
    """A column as data: some writers store the nested columns (and tool-call arguments) as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_record(row: Mapping[str, Any]) -> RLRecord:
    """Decode one row of the RL format."""
    info = maybe_json(row.get("extra_info")) or {}
    files = maybe_json(info.get("files")) or []
    if isinstance(files, Mapping):
        files = {str(path): str(text) for path, text in files.items()}
    else:
        files = {str(f["path"]): str(f["content"]) for f in files}
    statement = row.get("problem_statement") or ""
    if not statement:
        prompt = maybe_json(row.get("prompt")) or []
        if isinstance(prompt, list):
            statement = next((m.get("content", "") for m in prompt if m.get("role") == "user"), "")
    return RLRecord(
        task_id=str(row.get("task_id") or info.get("task_name")),
        statement=(statement or "").strip(),
        files=files,
        entrypoint=info.get("entrypoint") or "",
        task_name=info.get("task_name"),
        prompt=row.get("prompt"),
    )


def row_to_task(row: Mapping[str, Any], suite: str) -> Task:
    """The task of one row: its files, the tests the entrypoint names read-only, the statement first."""
    record = parse_record(row)
    if not record.files:
        raise ValueError(f"task {record.task_id!r} has no files in extra_info.files")
    named = [a for a in shlex.split(record.entrypoint) if a.endswith(".py") and a in record.files]
    test_files = named or sorted(
        p for p in record.files if "/" not in p and p.startswith("test") and p.endswith(".py")
    )
    if not test_files:
        raise ValueError(f"task {record.task_id!r}: no test file among {sorted(record.files)}")
    rules = DEFAULT_INSTRUCTIONS.format(test_file=", ".join(test_files))
    return Task(
        id=record.task_id,
        suite=suite,
        files=dict(record.files),
        test_files=test_files,
        readonly=list(test_files),
        hidden=list(HIDDEN),
        instructions=f"{record.statement}\n\n{rules}" if record.statement else rules,
        metadata={"task_name": record.task_name, "entrypoint": record.entrypoint, "prompt": record.prompt},
    )


def load_parquet(path: str | os.PathLike[str], suite: str | None = None) -> TaskDict:
    """The tasks of a parquet file in the RL format, by task id (``suite``: the file's stem by default)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no parquet file at {path}")
    suite = suite or path.stem
    tasks = {}
    for row in parquet_rows(path):
        task = row_to_task(row, suite)
        tasks[task.id] = task
    return TaskDict(tasks, suite)
