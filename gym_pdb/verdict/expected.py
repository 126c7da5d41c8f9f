"""The tests a task's run must pass, known by the host before any agent edit.

A trusted run (the task's own files: its gold fix where there is one, else
the program as shipped) collects the node ids its test files define and runs
them; a test that skips or is an expected failure there is not expected. The
result is kept in the user cache (the suites' data is read-only), keyed by a
hash of the test files and the program of that run; an env also keeps the
tasks it has seen in memory.
The audit and the generator carry the same record (``Task.expected``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, MutableMapping
from pathlib import Path

from gym_pdb.tasks.data_dir import user_cache_dir
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.result import EvalResult, Expected

#: Bumped when what a trusted run records changes.
VERSION = "1"


def reference_files(task: Task) -> dict[str, str]:
    """The files of the trusted run: the task's, with its gold fix applied where it has one."""
    files = dict(task.files)
    files.update(task.gold_files or {})
    return files


def cache_key(task: Task) -> str:
    digest = hashlib.sha256(VERSION.encode())
    for path, text in sorted(reference_files(task).items()):
        if path in task.test_files or path.endswith(".py"):
            digest.update(b"\0%s\0%s" % (path.encode(), text.encode()))
    return digest.hexdigest()


def cache_dir() -> Path:
    return user_cache_dir() / "expected"


def from_run(result: EvalResult) -> Expected | None:
    """What a trusted run says must pass; None if it collected nothing."""
    collected = [t.nodeid for t in result.tests if t.outcome != "not run" or result.finished]
    if result.collect_errors or not collected:
        return None
    ids = tuple(t.nodeid for t in result.tests if t.outcome not in ("skipped", "xfailed"))
    return Expected(ids=ids, collected=tuple(collected))


def lookup(task: Task) -> tuple[bool, Expected | None]:
    """``(known, expected)`` from the task or the user cache, without running anything."""
    if task.expected is not None:
        return True, Expected.from_dict(task.expected)
    try:
        data = json.loads((cache_dir() / f"{cache_key(task)}.json").read_text())
    except (OSError, ValueError):
        return False, None
    return True, Expected.from_dict(data) if data else None


def remember(task: Task, expected: Expected | None) -> None:
    """Keep what a trusted run of ``task`` established in the user cache (where it is writable)."""
    key = cache_key(task)
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(json.dumps(expected.to_dict() if expected else None))
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass


def expected_tests(
    task: Task, run: Callable[[dict[str, str]], EvalResult], memory: MutableMapping[str, Expected | None] | None = None
) -> Expected | None:
    """The expected tests of ``task``, from a trusted run when no record of them is kept.

    ``run(files)`` runs the task's tests on ``files`` (without expectations)
    and returns the ``EvalResult``; the caller lays the task's files again
    afterwards. ``memory``: the caller's own record of the tasks it has seen.
    """
    key = cache_key(task)
    if memory is not None and key in memory:
        return memory[key]
    known, expected = lookup(task)
    if not known:
        expected = from_run(run(reference_files(task)))
        remember(task, expected)
    if memory is not None:
        memory[key] = expected
    return expected
