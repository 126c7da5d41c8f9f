"""The suites gym-pdb knows: their environment ids, folders and loaders."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gym_pdb.tasks.data_dir import resolve_suite_dir
from gym_pdb.tasks.loader import SuiteTasks
from gym_pdb.tasks.task import Task


@dataclass(frozen=True)
class Suite:
    """A registered suite: ``PDB-<name>-v0`` reads the tasks in ``folder``."""

    name: str
    folder: str
    description: str

    @property
    def env_id(self) -> str:
        return f"PDB-{self.name}-v0"

    def load(self, data_dir: str | os.PathLike | None = None) -> Mapping[str, Task]:
        return SuiteTasks(resolve_suite_dir(self.folder, data_dir), self.folder)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("MiniNightmare", "mini_nightmare", "10 hand-written hard bugs (debug-gym's Mini Nightmare)"),
        Suite("DebugBench", "debugbench", "LeetCode programs with injected bugs (DebugBench, Python)"),
        Suite("HumanEvalBuggy", "humaneval_buggy", "HumanEval reference solutions with one injected bug"),
        Suite("MBPPBuggy", "mbpp_buggy", "MBPP reference solutions with one injected bug"),
        Suite("CanItEdit", "canitedit", "instructional code edits (CanItEdit), tests as the goal"),
        Suite("SynDebug", "syn-debug", "synthetic bugs in AceCode and KodCode programs"),
    )
}


def demo_dir() -> Path:
    """The demo tasks shipped inside the package."""
    return Path(str(resources.files("gym_pdb.tasks") / "demo"))


def load_demo() -> Mapping[str, Task]:
    return SuiteTasks(demo_dir(), "demo")


def load_custom(data_dir: str | os.PathLike | None) -> Mapping[str, Task]:
    if not data_dir:
        raise ValueError("PDB-Custom-v0 needs data_dir=<a folder of task folders>")
    return SuiteTasks(Path(data_dir).expanduser(), Path(data_dir).name or "custom")


def load_suite(
    name: str, data_dir: str | os.PathLike | None = None, include_broken: bool = False
) -> Mapping[str, Task]:
    """The tasks of a suite by name (``DebugBench``, ``Demo``, ``Custom``...).

    ``include_broken`` keeps the tasks the suite's exclusion list leaves out.
    """
    if name == "Demo":
        return load_demo()
    if name == "Custom":
        return load_custom(data_dir)
    if name not in SUITES:
        known = ", ".join([*SUITES, "Demo", "Custom"])
        raise ValueError(f"unknown suite {name!r}; known suites: {known}")
    return SUITES[name].load(data_dir)
