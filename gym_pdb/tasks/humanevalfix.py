"""PDB-HumanEvalFix-v0: bigcode's HumanEvalFix (Python) in the task model.

Each of the 164 records gives a task: ``solution.py`` is the prompt (imports,
helpers, signature and docstring) followed by ``buggy_solution``; ``test.py``
runs the record's ``check`` (``test_check``) and, where there is one, its
``example_test`` (``test_examples``; left out where it does not parse) under pytest; the gold fix is the prompt
followed by ``canonical_solution``. ``bug_type`` and ``failure_symptoms`` go
into the metadata.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gym_pdb.tasks import upstream
from gym_pdb.tasks.data_dir import DataNotFoundError
from gym_pdb.tasks.source import LazyTasks
from gym_pdb.tasks.task import Task

FOLDER = "humanevalfix"
PROGRAM = "solution.py"
HIDDEN = ["__pycache__/", "*.py[cod]", ".pytest_cache/"]


def _drop_check_calls(source: str, rename: str | None = None) -> str:
    """Remove the module-level ``check(...)`` calls; optionally rename ``check``."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in reversed(tree.body):
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check":
            del lines[node.lineno - 1 : node.end_lineno]
    text = "".join(lines).strip("\n") + "\n"
    if rename:
        text = text.replace("def check(", f"def {rename}(", 1)
    return text


def record_to_task(record: Mapping[str, Any]) -> Task:
    number = str(record["task_id"]).split("/")[-1]
    entry = record["entry_point"]
    prompt = record["prompt"]
    test = "from solution import *\n\n\n" + _drop_check_calls(record["test"])
    test += f"\n\ndef test_check():\n    check({entry})\n"
    try:
        examples = _drop_check_calls(record.get("example_test") or "", rename="check_examples")
    except SyntaxError:  # one upstream record's examples are mangled: leave them out
        examples = ""
    if "def check_examples(" in examples:
        test += "\n\n" + examples + f"\n\ndef test_examples():\n    check_examples({entry})\n"
    return Task(
        id=f"humanevalfix_{number}",
        suite=FOLDER,
        files={PROGRAM: prompt + record["buggy_solution"], "test.py": test},
        test_files=["test.py"],
        readonly=["test.py"],
        hidden=list(HIDDEN),
        gold_files={PROGRAM: prompt + record["canonical_solution"]},
        metadata={
            "source": f"HumanEvalFix {record['task_id']}",
            "upstream_key": record["task_id"],
            "bug_type": record.get("bug_type"),
            "failure_symptoms": record.get("failure_symptoms"),
            "entry_point": entry,
        },
    )


class HumanEvalFixTasks(LazyTasks):
    """The HumanEvalFix tasks by id (``humanevalfix_0`` ...), built from the upstream file.

    Gold fixes are kept only where the audit verified them (see
    :mod:`gym_pdb.tasks.gold`), unless ``verified_only=False``.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike | None = None,
        exclude: Mapping[str, str] | None = None,
        verified_only: bool = True,
    ):
        path = upstream.find_upstream(upstream.HUMANEVALPACK, data_dir)
        if path is None:
            roots = "\n".join(f"  - {r}" for r in upstream.upstream_roots(data_dir))
            raise DataNotFoundError(
                f"No HumanEvalFix data ({upstream.HUMANEVALPACK}). Looked in:\n{roots}\n"
                "Run `gym-pdb download` to fill the user cache, or set GYM_PDB_UPSTREAM to a folder holding it."
            )
        self.path = Path(path)
        self.excluded = dict(exclude or {})
        self.verified_only = verified_only
        self._records: dict[str, Mapping[str, Any]] = {}
        for record in upstream.humanevalpack(self.path):
            number = str(record["task_id"]).split("/")[-1]
            self._records[f"humanevalfix_{number}"] = record
        super().__init__((i for i in self._records if i not in self.excluded), FOLDER)

    def _load(self, task_id: str) -> Task:
        task = record_to_task(self._records[task_id])
        if self.verified_only:
            from gym_pdb.tasks.gold import gold_hash, load_verified

            entry = load_verified(FOLDER).get(task_id, {})
            if task.gold_files is not None and entry.get("gold") != gold_hash(task.gold_files):
                task.gold_files = None
        return task
