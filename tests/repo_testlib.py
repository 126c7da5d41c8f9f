"""The small repository images the repository-task tests share: built once per content (``repo_examples``)."""

from __future__ import annotations

import pytest
from conftest import require_backend

from gym_pdb.tasks.repo_examples import example_tasks
from gym_pdb.tasks.source import TaskDict


@pytest.fixture(scope="session")
def repo_tasks() -> TaskDict:
    """The example repository tasks, their images built where missing (a fresh machine: ~10 s and two sdists)."""
    require_backend("docker")
    return example_tasks(build=True)
