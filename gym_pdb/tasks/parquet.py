"""Tasks from the SWE-PDB RL parquet format (``rl_test.parquet`` and the RL training set).

One row per task: ``task_id``, ``problem_statement``, ``prompt`` (the chat
the paper's trainer starts from, as JSON) and ``extra_info`` with
``entrypoint`` (the test command, ``python -m pytest ... test.py``),
``files`` (``[{path, content}]``: the buggy program and the tests) and
``task_name``. Use them with ``PDBEnv(tasks=load_parquet(path))`` or
``gym.make("PDB-Custom-v0", data_dir="rl_test.parquet")``.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from gym_pdb.tasks.task import DEFAULT_INSTRUCTIONS, Task

HIDDEN = ["__pycache__/", "*.py[cod]", ".pytest_cache/"]


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(f"reading {path} needs pyarrow or pandas: pip install pyarrow") from exc
        return pd.read_parquet(path).to_dict("records")
    return pq.read_table(path).to_pylist()


def row_to_task(row: dict[str, Any], suite: str) -> Task:
    info = row.get("extra_info") or {}
    files = {f["path"]: f["content"] for f in info.get("files") or []}
    if not files:
        raise ValueError(f"task {row.get('task_id')!r} has no files in extra_info.files")
    command = info.get("entrypoint") or ""
    named = [a for a in shlex.split(command) if a.endswith(".py") and a in files]
    test_files = named or sorted(p for p in files if "/" not in p and p.startswith("test") and p.endswith(".py"))
    if not test_files:
        raise ValueError(f"task {row.get('task_id')!r}: no test file among {sorted(files)}")
    statement = (row.get("problem_statement") or "").strip()
    rules = DEFAULT_INSTRUCTIONS.format(test_file=", ".join(test_files))
    return Task(
        id=str(row["task_id"]),
        suite=suite,
        files=files,
        test_files=test_files,
        readonly=list(test_files),
        hidden=list(HIDDEN),
        instructions=f"{statement}\n\n{rules}" if statement else rules,
        metadata={"task_name": info.get("task_name"), "entrypoint": command, "prompt": row.get("prompt")},
    )


def load_parquet(path: str | os.PathLike, suite: str | None = None) -> dict[str, Task]:
    """The tasks of a parquet file in the RL format, by task id."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no parquet file at {path}")
    suite = suite or path.stem
    tasks = {}
    for row in _rows(path):
        task = row_to_task(row, suite)
        tasks[task.id] = task
    return tasks
