"""The suites gym-pdb knows: their environment ids, folders and loaders."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gym_pdb.tasks.broken import load_broken
from gym_pdb.tasks.data_dir import DataNotFoundError, resolve_suite_dir
from gym_pdb.tasks.gold import join_suite
from gym_pdb.tasks.loader import SuiteTasks
from gym_pdb.tasks.task import Task


@dataclass(frozen=True)
class Suite:
    """A registered suite: ``PDB-<name>-v0`` reads the tasks in ``folder``.

    ``loader(data_dir, exclude=..., verified_only=...)`` builds the tasks of a
    suite that is not a folder of task folders (HumanEvalFix, Synthetic).
    """

    name: str
    folder: str
    description: str
    loader: Callable[..., Mapping[str, Task]] | None = None

    @property
    def env_id(self) -> str:
        return f"PDB-{self.name}-v0"

    def load(
        self,
        data_dir: str | os.PathLike | None = None,
        include_broken: bool = False,
        verified_only: bool = True,
        download: bool = False,
    ) -> Mapping[str, Task]:
        """The suite's tasks, less its broken ones unless ``include_broken``.

        ``verified_only=False`` attaches unverified gold candidates (for the audit);
        ``download`` fetches missing data into the user cache (see :mod:`gym_pdb.tasks.download`).
        """
        exclude = {} if include_broken else load_broken(self.folder)
        try:
            return self._load(data_dir, exclude, verified_only)
        except DataNotFoundError:
            if not download or data_dir:
                raise
            from gym_pdb.tasks.download import download_for_suite

            download_for_suite(self.folder)
            return self._load(data_dir, exclude, verified_only)

    def _load(self, data_dir, exclude: Mapping[str, str], verified_only: bool) -> Mapping[str, Task]:
        if self.loader is not None:
            return self.loader(data_dir, exclude=exclude, verified_only=verified_only)
        tasks = SuiteTasks(resolve_suite_dir(self.folder, data_dir), self.folder, exclude=exclude)
        return join_suite(tasks, self.folder, data_dir, verified_only)


def _load_humanevalfix(data_dir, **kwargs) -> Mapping[str, Task]:
    from gym_pdb.tasks.humanevalfix import HumanEvalFixTasks

    return HumanEvalFixTasks(data_dir, **kwargs)


def _load_synthetic(data_dir, **kwargs) -> Mapping[str, Task]:
    from gym_pdb.tasks.generator import SyntheticTasks

    return SyntheticTasks(data_dir=data_dir)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("MiniNightmare", "mini_nightmare", "10 hand-written hard bugs (debug-gym's Mini Nightmare)"),
        Suite("DebugBench", "debugbench", "LeetCode programs with injected bugs (DebugBench, Python)"),
        Suite("HumanEvalBuggy", "humaneval_buggy", "HumanEval reference solutions with one injected bug"),
        Suite("MBPPBuggy", "mbpp_buggy", "MBPP reference solutions with one injected bug"),
        Suite("CanItEdit", "canitedit", "instructional code edits (CanItEdit), tests as the goal"),
        Suite("SynDebug", "syn-debug", "synthetic bugs in AceCode and KodCode programs"),
        Suite("HumanEvalFix", "humanevalfix", "bigcode's HumanEvalFix: HumanEval with one human-written bug", _load_humanevalfix),
        Suite("Synthetic", "synthetic", "generated: AST-mutated correct programs, unbounded (train/test split)", _load_synthetic),
    )
}


def demo_dir() -> Path:
    """The demo tasks shipped inside the package."""
    return Path(str(resources.files("gym_pdb.tasks") / "demo"))


def load_demo() -> Mapping[str, Task]:
    return SuiteTasks(demo_dir(), "demo")


def load_custom(data_dir: str | os.PathLike | None) -> Mapping[str, Task]:
    if not data_dir:
        raise ValueError("PDB-Custom-v0 needs data_dir=<a folder of task folders, or an RL .parquet file>")
    if str(data_dir).endswith(".parquet"):
        from gym_pdb.tasks.parquet import load_parquet

        return load_parquet(data_dir)
    return SuiteTasks(Path(data_dir).expanduser(), Path(data_dir).name or "custom")


def load_suite(
    name: str, data_dir: str | os.PathLike | None = None, include_broken: bool = False, download: bool = False
) -> Mapping[str, Task]:
    """The tasks of a suite by name (``DebugBench``, ``Demo``, ``Custom``...).

    ``include_broken`` keeps the tasks the suite's exclusion list leaves out;
    ``download`` fetches a registered suite's missing data into the user cache.
    """
    if name == "Demo":
        return load_demo()
    if name == "Custom":
        return load_custom(data_dir)
    if name not in SUITES:
        known = ", ".join([*SUITES, "Demo", "Custom"])
        raise ValueError(f"unknown suite {name!r}; known suites: {known}")
    return SUITES[name].load(data_dir, include_broken=include_broken, download=download)
