"""Helpers of the agent tests: task folders in the suite layout."""

from __future__ import annotations

from pathlib import Path

ADD_SOLUTION = '''def add(x):
    """Add {k} to x."""
    return x + {k} - 1
'''
ADD_GOLD = '''def add(x):
    """Add {k} to x."""
    return x + {k}
'''
ADD_TEST = """from solution import add


def test_zero():
    assert add(0) == {k}


def test_one():
    assert add(1) == {k} + 1
"""


def write_task(root: Path, name: str, files: dict[str, str], gold: dict[str, str] | None = None) -> Path:
    """A task folder in the suite layout (tests read-only, .gold/ hidden)."""
    folder = root / name
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / path).write_text(text)
    (folder / ".debugreadonly").write_text("test.py\n")
    (folder / ".debugignore").write_text("__pycache__/\n*.pyc\n.gold/\n")
    for path, text in (gold or {}).items():
        (folder / ".gold").mkdir(exist_ok=True)
        (folder / ".gold" / path).write_text(text)
    return folder
