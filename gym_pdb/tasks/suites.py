"""The built-in task sources and their registration: the data suites, Demo and Custom.

A data suite is a :class:`Suite` line in :data:`SUITES`: a folder of task
folders in the SWE-PDB layout, or a loader of its own (HumanEvalFix reads
one upstream file; Synthetic generates). Demo and Custom are registered
below them. A new kind of source is a module that loads it plus one
``register_source`` line here (see :mod:`gym_pdb.tasks.registry`).
"""

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
from gym_pdb.tasks.registry import load_source, register_source
from gym_pdb.tasks.source import TaskSource

PathArg = str | os.PathLike[str] | None
#: ``loader(data_dir, exclude=..., verified_only=...)`` of a suite that is not a folder of task folders.
SuiteLoader = Callable[..., TaskSource]


@dataclass(frozen=True)
class Suite:
    """A data suite: ``PDB-<name>-v0`` reads the tasks in ``folder``.

    ``loader(data_dir, exclude=..., verified_only=...)`` builds the tasks of a
    suite that is not a folder of task folders (HumanEvalFix, Synthetic).
    """

    name: str
    folder: str
    description: str
    loader: SuiteLoader | None = None

    @property
    def env_id(self) -> str:
        return f"PDB-{self.name}-v0"

    def load(
        self,
        data_dir: PathArg = None,
        include_broken: bool = False,
        verified_only: bool = True,
        download: bool = False,
    ) -> TaskSource:
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

    def _load(self, data_dir: PathArg, exclude: Mapping[str, str], verified_only: bool) -> TaskSource:
        if self.loader is not None:
            return self.loader(data_dir, exclude=exclude, verified_only=verified_only)
        tasks = SuiteTasks(resolve_suite_dir(self.folder, data_dir), self.folder, exclude=exclude)
        return join_suite(tasks, self.folder, data_dir, verified_only)


def _load_humanevalfix(data_dir: PathArg, exclude: Mapping[str, str], verified_only: bool) -> TaskSource:
    from gym_pdb.tasks.humanevalfix import HumanEvalFixTasks

    return HumanEvalFixTasks(data_dir, exclude=exclude, verified_only=verified_only)


def _load_synthetic(data_dir: PathArg, exclude: Mapping[str, str], verified_only: bool) -> TaskSource:
    # Imported here, not at the top: the generator reads the data suites through the registry.
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


def load_demo(data_dir: PathArg = None, *, include_broken: bool = False, download: bool = False) -> TaskSource:
    """The Demo tasks: shipped in the package, so no data folder, exclusion list or download applies."""
    return SuiteTasks(demo_dir(), "demo")


def load_custom(data_dir: PathArg, *, include_broken: bool = False, download: bool = False) -> TaskSource:
    """The tasks ``data_dir`` names: a folder of task folders, or an RL ``.parquet`` file."""
    if not data_dir:
        raise ValueError("PDB-Custom-v0 needs data_dir=<a folder of task folders, or an RL .parquet file>")
    if str(data_dir).endswith(".parquet"):
        from gym_pdb.tasks.parquet import load_parquet

        return load_parquet(data_dir)
    return SuiteTasks(Path(data_dir).expanduser(), Path(data_dir).name or "custom")


for _suite in SUITES.values():
    register_source(_suite.name, _suite.load, _suite.description, folder=_suite.folder)
register_source("Demo", load_demo, "three small buggy programs shipped in the package", folder="demo")
register_source(
    "Custom", load_custom, "any folder of tasks in the same layout (data_dir=...)", from_data_dir=True
)


def load_suite(name: str, data_dir: PathArg = None, include_broken: bool = False, download: bool = False) -> TaskSource:
    """The tasks of a registered source by name (``DebugBench``, ``Demo``, ``Custom``...).

    ``include_broken`` keeps the tasks the suite's exclusion list leaves out;
    ``download`` fetches a registered suite's missing data into the user cache.
    """
    return load_source(name, data_dir, include_broken=include_broken, download=download)


def load_repo(data_dir: PathArg, *, include_broken: bool = False, download: bool = False) -> TaskSource:
    """Repository tasks (``gym_pdb.tasks.repo_dataset``): a SWE-bench or R2E-Gym dataset file or folder."""
    from gym_pdb.tasks.repo_dataset import load_repo_dataset

    return load_repo_dataset(data_dir)


def load_repo_examples(data_dir: PathArg = None, *, include_broken: bool = False, download: bool = False) -> TaskSource:
    """The small repository tasks of ``gym_pdb.tasks.repo_examples``; with ``download``, their images built where missing."""
    from gym_pdb.tasks.repo_examples import example_tasks

    return example_tasks(build=download)


register_source(
    "Repo", load_repo, "repository tasks: a SWE-bench or R2E-Gym dataset file (data_dir=...), Docker only",
    from_data_dir=True,
)  # fmt: skip
register_source(
    "RepoExamples", load_repo_examples, "two small PyPI packages with an injected bug each (images built locally)",
    folder="repo-examples",
)  # fmt: skip
