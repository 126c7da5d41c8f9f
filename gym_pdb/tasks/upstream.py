"""The upstream originals the suites were made from, and where they are found.

They hold what the SWE-PDB release leaves out: gold fixes (EvalPlus reference
solutions, DebugBench's oracle code), bug categories and the HumanEvalFix
suite. The layout, shared by the development data and the user cache that
``gym-pdb download`` fills::

    upstream/evalplus/HumanEvalPlus.jsonl, MbppPlus.jsonl
    upstream/debugbench/python3_<bug type>.json
    upstream/humanevalpack/humanevalpack_python.jsonl

The ``upstream/`` folder is looked for beside the suites' data (``data_dir``
or ``GYM_PDB_DATA`` name ``.../swe-pdb``, so ``.../upstream``), then in the
user cache; ``GYM_PDB_UPSTREAM`` names it outright.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

from gym_pdb.tasks.data_dir import ENV_VAR, user_cache_dir

UPSTREAM_ENV = "GYM_PDB_UPSTREAM"
HUMANEVAL_PLUS = "evalplus/HumanEvalPlus.jsonl"
MBPP_PLUS = "evalplus/MbppPlus.jsonl"
DEBUGBENCH = "debugbench"
HUMANEVALPACK = "humanevalpack/humanevalpack_python.jsonl"

#: DebugBench's bug types, by the major class its paper puts them in.
DEBUGBENCH_CATEGORIES = {
    "illegal comment": "syntax error",
    "illegal indentation": "syntax error",
    "missing colons": "syntax error",
    "misused == or =": "syntax error",
    "unclosed parentheses": "syntax error",
    "unclosed string": "syntax error",
    "faulty indexing": "reference error",
    "illegal keywords": "reference error",
    "undefined methods": "reference error",
    "undefined objects": "reference error",
    "condition error": "logic error",
    "operation error": "logic error",
    "other error": "logic error",
    "variable error": "logic error",
    "double": "multiple errors",
    "triple": "multiple errors",
    "quadruple": "multiple errors",
}


def upstream_roots(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders that may hold the upstream files, in the order they are tried."""
    roots = []
    if os.environ.get(UPSTREAM_ENV):
        roots.append(Path(os.environ[UPSTREAM_ENV]).expanduser())
    for base in (data_dir, os.environ.get(ENV_VAR)):
        if base:
            base = Path(base).expanduser()
            roots += [base / "upstream", base.parent / "upstream", base.parent.parent / "upstream"]
    roots.append(user_cache_dir() / "upstream")
    return roots


def find_upstream(relpath: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first upstream file or folder ``relpath`` found, or None."""
    for root in upstream_roots(data_dir):
        for candidate in (root / relpath, root / (relpath + ".gz")):
            if candidate.exists():
                return candidate
    return None


def _read_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.read()
    return path.read_text(encoding="utf-8")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _read_text(path).splitlines() if line.strip()]


@functools.lru_cache(maxsize=None)
def humaneval_plus(path: Path) -> dict[str, dict[str, Any]]:
    """HumanEvalPlus by task id (``HumanEval/12``); ``reference`` holds the solution body.

    Reads the EvalPlus release (``canonical_solution``) and its trimmed copies
    (``reference``, no ``task_id``: the line number is the id).
    """
    records = {}
    for index, record in enumerate(_jsonl(path)):
        task_id = record.get("task_id", f"HumanEval/{index}")
        body = record.get("canonical_solution", record.get("reference"))
        records[task_id] = {**record, "task_id": task_id, "reference": body}
    return records


@functools.lru_cache(maxsize=None)
def mbpp_plus(path: Path) -> dict[str, dict[str, Any]]:
    """MbppPlus by task id (``Mbpp/2``)."""
    records = {}
    for record in _jsonl(path):
        number = str(record["task_id"]).split("/")[-1]
        records[f"Mbpp/{number}"] = record
    return records


@functools.lru_cache(maxsize=None)
def debugbench(folder: Path) -> dict[str, dict[str, Any]]:
    """DebugBench's Python records by key ``<bug type>#<index>``, with ``bug_type`` and ``category`` added."""
    records = {}
    for path in sorted(folder.glob("python3_*.json")):
        bug_type = re.sub(r"^python3_", "", path.stem)
        for index, record in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            records[f"{bug_type}#{index}"] = {
                **record,
                "bug_type": bug_type,
                "category": DEBUGBENCH_CATEGORIES.get(bug_type, "unknown"),
            }
    return records


@functools.lru_cache(maxsize=None)
def humanevalpack(path: Path) -> list[dict[str, Any]]:
    """bigcode's HumanEvalPack (Python): HumanEvalFix's records, in order."""
    return _jsonl(path)
