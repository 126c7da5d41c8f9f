"""Load tasks from the SWE-PDB folder layout.

One folder per task: the buggy program (``solution.py`` or ``<id>_code.py``),
``test.py`` (pytest), ``.debugreadonly`` and ``.debugignore`` (gitignore-style
patterns), and optionally ``question.txt`` (the instruction, CanItEdit) and
``.gold/`` (the fixed files, for custom suites and the demo suite).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from gym_pdb.tasks.source import LazyTasks
from gym_pdb.tasks.task import DEFAULT_INSTRUCTIONS, Task, matches_any, parse_patterns

CONTROL_FILES = {".debugreadonly", ".debugignore", "question.txt"}
GOLD_DIR = ".gold"
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".git", GOLD_DIR}
MAX_FILE_BYTES = 2 * 1024**2


def is_task_dir(path: Path) -> bool:
    return path.is_dir() and ((path / "test.py").is_file() or any(path.glob("test*.py")))


def _read_tree(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if rel in CONTROL_FILES or full.stat().st_size > MAX_FILE_BYTES:
                continue
            try:
                files[rel] = full.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return files


def load_task(path: str | os.PathLike, suite: str = "custom", task_id: str | None = None) -> Task:
    """Load one task folder."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no task folder at {root}")
    files = _read_tree(root)
    readonly = parse_patterns(_read_optional(root / ".debugreadonly")) or ["test.py"]
    hidden = parse_patterns(_read_optional(root / ".debugignore"))
    test_files = sorted(p for p in files if "/" not in p and p.endswith(".py") and p.startswith("test"))
    if not test_files:
        raise ValueError(f"{root}: a task folder needs a test file (test.py)")
    question = _read_optional(root / "question.txt").strip()
    instructions = DEFAULT_INSTRUCTIONS.format(test_file=", ".join(test_files))
    if question:
        instructions = f"{question}\n\n{instructions}"
    gold = _read_tree(root / GOLD_DIR) if (root / GOLD_DIR).is_dir() else None
    if gold is not None:
        gold = {p: t for p, t in gold.items() if p in files or not matches_any(p, readonly)}
    return Task(
        id=task_id or root.name,
        suite=suite,
        files=files,
        test_files=test_files,
        readonly=readonly,
        hidden=hidden,
        instructions=instructions,
        gold_files=gold,
        metadata={"source_dir": str(root)},
    )


def _read_optional(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


class SuiteTasks(LazyTasks):
    """The tasks of a suite folder, by id; each is read from disk on first access."""

    def __init__(self, root: str | os.PathLike, suite: str, exclude: Mapping[str, str] | None = None):
        self.root = Path(root)
        self.suite = suite
        self.excluded = dict(exclude or {})
        ids = sorted(
            (p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".") and is_task_dir(p)),
            key=_natural_key,
        )
        super().__init__((i for i in ids if i not in self.excluded), suite)
        if not self._ids:
            raise FileNotFoundError(f"{self.root} holds no task folders (a folder with a test.py each)")

    def _load(self, task_id: str) -> Task:
        return load_task(self.root / task_id, self.suite)


def _natural_key(name: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
