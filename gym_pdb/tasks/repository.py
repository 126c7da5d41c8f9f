"""Repository tasks: a whole Python repository in its own image, as R2E-Gym and SWE-bench have them.

A repository task is a :class:`~gym_pdb.tasks.task.Task` whose ``repo`` field
holds a :class:`RepoSpec`: the image, where the repository is in it, the
tests that must go from failing to passing (``fail_to_pass``) and stay
passing (``pass_to_pass``), and what only the eval sees (a test patch, a
folder of hidden tests). Its ``files`` (the host's mirror of the tree's text
files, which view, grep and listdir read) are filled from the image at the
first reset; its ``expected`` tests are the two lists, known without a
trusted run. Only the Docker backend runs them
(:mod:`gym_pdb.sandbox.docker.repository`).
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from gym_pdb.tasks.patch import patched_paths
from gym_pdb.tasks.task import Task

#: Never shown nor listed: version control, caches, builds (``listdir`` of a big tree stays readable).
REPO_HIDDEN = [
    ".git/", ".hg/", "__pycache__/", "*.pyc", "*.pyo", "*.so", "*.egg-info/", ".eggs/", "build/", "dist/",
    ".tox/", ".nox/", ".pytest_cache/", ".mypy_cache/", ".venv/", "node_modules/",
]  # fmt: skip
#: pytest's configuration files: trusted as the original commit has them (root's, read-only, hash-checked).
CONFIG_NAMES = ("conftest.py", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml")

REPO_INSTRUCTIONS = (
    "The repository in the workspace has a bug described in this issue:\n\n{problem}\n\n"
    "Fix it in the repository's code so that its tests pass. The tests that check the fix: {tests}. "
    "Do not change the tests nor the repository's test configuration."
)


@dataclass
class RepoSpec:
    """Where a repository task's code is and what decides it.

    Attributes:
        image: the Docker image that holds the repository, installed.
        path: the repository's folder in the image (``/testbed`` for R2E-Gym and SWE-bench).
        fail_to_pass: pytest node ids (``file::test``) that fail on the buggy tree and must pass.
        pass_to_pass: node ids that pass and must keep passing.
        test_patch: a unified diff applied to the tree for the eval only (SWE-bench's ``test_patch``).
        hidden_tests: a folder of the image copied into the tree for the eval only (R2E-Gym's ``/r2e_tests``),
            as ``tests_dest`` (default: its base name).
        gold_patch: the fix as a unified diff, where known.
        python: the interpreter in the image that runs the tests.
        problem: the issue text.
        dockerfile: a folder with a Dockerfile that builds ``image`` (``gym-pdb build-image --dockerfile``).
    """

    image: str
    path: str = "/testbed"
    fail_to_pass: list[str] = field(default_factory=list)
    pass_to_pass: list[str] = field(default_factory=list)
    test_patch: str = ""
    hidden_tests: str = ""
    tests_dest: str = ""
    gold_patch: str = ""
    python: str = "python3"
    problem: str = ""
    dockerfile: str = ""

    @property
    def test_ids(self) -> list[str]:
        """Every test an eval runs: the failing ones first."""
        return list(dict.fromkeys([*self.fail_to_pass, *self.pass_to_pass]))

    @property
    def test_files(self) -> list[str]:
        """The files of the selected tests, in order."""
        return list(dict.fromkeys(i.split("::", 1)[0] for i in self.test_ids))

    @property
    def eval_dest(self) -> str:
        """Where the hidden tests go in the tree for an eval."""
        return self.tests_dest or posixpath.basename(self.hidden_tests.rstrip("/"))

    def protected(self) -> list[str]:
        """Patterns of what the agent may not change: the selected tests' files, the test patch's, pytest's config."""
        paths = [*self.test_files, *patched_paths(self.test_patch)]
        if self.hidden_tests:
            paths.append(self.eval_dest + "/")
        return list(dict.fromkeys([*paths, *CONFIG_NAMES]))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RepoSpec":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def repo_spec(task: Task) -> RepoSpec | None:
    """The task's repository, or None for a small program."""
    return RepoSpec.from_dict(task.repo) if task.repo else None


def make_repo_task(task_id: str, suite: str, spec: RepoSpec, metadata: Mapping[str, Any] | None = None) -> Task:
    """A repository task; its ``files`` and ``gold_files`` are filled from the image at the first reset."""
    ids = spec.test_ids
    if not ids:
        raise ValueError(f"{task_id}: a repository task needs FAIL_TO_PASS or PASS_TO_PASS tests")
    shown = ", ".join(spec.fail_to_pass[:10]) or ", ".join(ids[:10])
    return Task(
        id=task_id,
        suite=suite,
        files={},
        test_files=spec.test_files,
        readonly=spec.protected(),
        hidden=list(REPO_HIDDEN),
        instructions=REPO_INSTRUCTIONS.format(problem=spec.problem.strip() or "(no issue text)", tests=shown),
        metadata=dict(metadata or {}),
        expected={"ids": ids, "collected": ids},
        repo=spec.to_dict(),
    )
