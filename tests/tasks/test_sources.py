"""Task sources: one protocol for suites, streams, Demo and Custom; a registry that gym ids come from."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import gym_pdb
from gym_pdb.cli import main
from gym_pdb.tasks.registry import TASK_SOURCES, load_source, register_source, source_spec
from gym_pdb.tasks.source import TaskDict, TaskSource, as_source, pick
from gym_pdb.tasks.task import Task

PROGRAM = "def double(x):\n    return x + x + 1\n"
TEST = "from solution import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def _task(task_id: str) -> Task:
    return Task(id=task_id, suite="counted", files={"solution.py": PROGRAM, "test.py": TEST})


class CountingTasks(TaskSource):
    """A stream defined here, as a plugin would: ``count-<n>``, made on demand."""

    name = "counted"
    unbounded = True

    def __init__(self) -> None:
        self.made: dict[str, Task] = {}

    def sample(self, rng: np.random.Generator | random.Random) -> str:
        task = _task(f"count-{len(self.made)}")
        self.made[task.id] = task
        return task.id

    def __getitem__(self, task_id: str) -> Task:
        return self.made[task_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.made)

    def __len__(self) -> int:
        return len(self.made)


def load_counting(data_dir: str | os.PathLike[str] | None, *, include_broken: bool, download: bool) -> TaskSource:
    return CountingTasks()


@pytest.fixture(autouse=True)
def forget_test_sources() -> Iterator[None]:
    """Leave the registries as they were: a source registered here is not listed by later tests."""
    before = dict(TASK_SOURCES)
    yield
    for name in set(TASK_SOURCES) - set(before):
        spec = TASK_SOURCES.pop(name)
        gym.registry.pop(spec.env_id, None)


def test_a_source_registered_here_gets_its_gym_id() -> None:
    register_source("TestCounting", load_counting, "a stream defined in a test module")
    assert "PDB-TestCounting-v0" in gym.registry
    env = gym.make("PDB-TestCounting-v0")
    try:
        tasks = env.unwrapped.tasks
        assert isinstance(tasks, CountingTasks) and tasks.unbounded and env.unwrapped.task_ids == []
        obs, info = env.reset(seed=0)
        assert info["task_id"] == "count-0" and "solution.py" in obs
        _, reward, terminated, _, info = env.step("eval")
        assert info["tests_total"] == 1 and not terminated and reward == 0.0
        _, info = env.reset()
        assert info["task_id"] == "count-1" and env.unwrapped.task_ids == ["count-0", "count-1"]
    finally:
        env.close()
    assert "PDB-TestCounting-v0" not in gym_pdb.ENV_IDS  # the built-in ids stay what they were


def test_registration_is_idempotent_and_names_are_unique() -> None:
    spec = register_source("TestCounting", load_counting, "a stream defined in a test module")
    assert register_source("TestCounting", load_counting, "a stream defined in a test module") == spec
    with pytest.raises(ValueError, match="already registered"):
        register_source("TestCounting", load_counting, "another description")
    with pytest.raises(ValueError, match="unknown suite 'Nope'; known suites: MiniNightmare"):
        load_source("Nope")


def test_a_loader_must_return_a_source() -> None:
    register_source("TestNotASource", lambda data_dir, **kwargs: {"a": _task("a")})  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="not a TaskSource"):
        load_source("TestNotASource")


def test_builtin_sources_share_the_protocol(tmp_path: Path) -> None:
    demo = load_source("Demo")
    assert isinstance(demo, TaskSource) and not demo.unbounded and demo.name == "demo" and len(demo) == 3
    synthetic = load_source("Synthetic")
    assert synthetic.unbounded and synthetic.name == "synthetic" and len(synthetic) == 0
    folder = tmp_path / "mine" / "t1"
    folder.mkdir(parents=True)
    (folder / "solution.py").write_text(PROGRAM)
    (folder / "test.py").write_text(TEST)
    custom = load_source("Custom", tmp_path / "mine")
    assert not custom.unbounded and custom.name == "mine" and list(custom) == ["t1"]
    assert source_spec("Custom").from_data_dir and source_spec("Demo").folder == "demo"
    assert [s.env_id for s in TASK_SOURCES.values()][: len(gym_pdb.ENV_IDS)] == gym_pdb.ENV_IDS


def test_a_finite_source_picks_uniformly_as_the_env_always_did() -> None:
    tasks = TaskDict([_task(f"t{i}") for i in range(5)], "five")
    ids = list(tasks)
    for seed in range(5):
        rng, same = np.random.default_rng(seed), np.random.default_rng(seed)
        assert tasks.sample(rng) == ids[int(same.integers(len(ids)))]
    assert pick(ids, random.Random(1)) in ids
    assert as_source(tasks) is tasks
    copied = as_source({"a": _task("a")}, "given")
    assert isinstance(copied, TaskDict) and copied.name == "given" and not copied.unbounded
    with pytest.raises(ValueError, match="no task"):
        pick([], random.Random(0))


def test_list_counts_a_registered_source(capsys: pytest.CaptureFixture[str]) -> None:
    register_source("TestCounting", load_counting, "a stream defined in a test module")
    assert main(["list"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("PDB-TestCounting-v0"))
    assert line.split()[1] == "stream"
