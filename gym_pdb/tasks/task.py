"""The Task model: one buggy program, its tests, and what the agent may touch."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Mapping

DEFAULT_TEST_FILE = "test.py"
DEFAULT_INSTRUCTIONS = (
    "The program in this folder has a bug: some tests in {test_file} fail. "
    "Find the bug and fix it so that all tests pass. Do not change {test_file}."
)


@dataclass
class Task:
    """A debugging task.

    ``files`` maps workspace-relative paths to their text. ``readonly`` and
    ``hidden`` hold the gitignore-style patterns of ``.debugreadonly`` and
    ``.debugignore``. ``gold_files`` maps paths to their fixed text where a
    correct version is known.
    """

    id: str
    suite: str
    files: dict[str, str]
    test_files: list[str] = field(default_factory=lambda: [DEFAULT_TEST_FILE])
    readonly: list[str] = field(default_factory=lambda: [DEFAULT_TEST_FILE])
    hidden: list[str] = field(default_factory=list)
    instructions: str = ""
    gold_files: dict[str, str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, list[str]] | None = None  # the tests a run must pass (``gym_pdb.verdict.expected``)
    repo: dict[str, Any] | None = None  # a repository task's ``RepoSpec`` (``gym_pdb.tasks.repository``)

    @property
    def test_command(self) -> str:
        """The paper's test command for this task."""
        return "python -m pytest --tb=short -sq " + " ".join(self.test_files)

    @property
    def entrypoint(self) -> str:
        """The main program file: the first editable, visible Python file."""
        candidates = [p for p in self.files if p.endswith(".py") and self.is_editable(p) and self.is_visible(p)]
        preferred = [p for p in candidates if p == "solution.py" or p.endswith("_code.py")]
        return (preferred or candidates or [self.test_files[0]])[0]

    @property
    def prompt(self) -> str:
        return self.instructions or DEFAULT_INSTRUCTIONS.format(test_file=", ".join(self.test_files))

    def is_visible(self, path: str) -> bool:
        return not matches_any(path, self.hidden)

    def is_editable(self, path: str) -> bool:
        return not matches_any(path, self.readonly)

    def encoded_files(self) -> dict[str, bytes]:
        return {path: text.encode("utf-8") for path, text in self.files.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "suite": self.suite,
            "files": dict(self.files),
            "test_files": list(self.test_files),
            "readonly": list(self.readonly),
            "hidden": list(self.hidden),
            "instructions": self.instructions,
            "gold_files": dict(self.gold_files) if self.gold_files is not None else None,
            "metadata": dict(self.metadata),
            "expected": self.expected,
            "repo": dict(self.repo) if self.repo is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Task":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def parse_patterns(text: str) -> list[str]:
    """Read a .debugignore/.debugreadonly file: one gitignore-style pattern a line."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and not line.startswith("!"):
            patterns.append(line)
    return patterns


def matches_any(path: str, patterns: list[str]) -> bool:
    """Gitignore-style matching, enough for the suites' files.

    A pattern without a slash matches any path component (``*.pyc``,
    ``__pycache__/``); a pattern with one is anchored at the workspace root.
    """
    parts = path.split("/")
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        pat = pattern.strip("/")
        if not pat:
            continue
        if pattern.startswith("/") or "/" in pat:
            if fnmatch.fnmatchcase(path, pat) or path.startswith(pat + "/"):
                return True
            continue
        candidates = parts[:-1] if dir_only else parts
        if any(fnmatch.fnmatchcase(part, pat) for part in candidates):
            return True
    return False
