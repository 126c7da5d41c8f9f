"""PDB-HumanEvalFix-v0: bigcode's HumanEvalFix in the task model."""

from __future__ import annotations

import ast

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401 - registers the environments
from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.tasks.check import run_files
from gym_pdb.tasks.data_dir import DataNotFoundError
from gym_pdb.tasks.humanevalfix import HumanEvalFixTasks
from gym_pdb.tasks.suites import SUITES


@pytest.fixture(scope="module")
def tasks():
    return SUITES["HumanEvalFix"].load(None, include_broken=True, verified_only=False)


def test_all_164_tasks_with_tests_that_parse(tasks):
    assert len(tasks) == 164 and list(tasks)[:2] == ["humanevalfix_0", "humanevalfix_1"]
    for task_id in tasks:
        task = tasks[task_id]
        assert set(task.files) == {"solution.py", "test.py"} and task.test_files == ["test.py"]
        tests = [n.name for n in ast.parse(task.files["test.py"]).body if isinstance(n, ast.FunctionDef)]
        assert "test_check" in tests


def test_a_task_in_detail(tasks):
    task = tasks["humanevalfix_0"]
    assert task.metadata["bug_type"] == "missing logic" and task.metadata["failure_symptoms"] == "incorrect output"
    assert task.metadata["entry_point"] == "has_close_elements"
    assert "distance = elem - elem2" in task.files["solution.py"]
    assert "distance = abs(elem - elem2)" in task.gold_files["solution.py"]
    assert not task.is_editable("test.py") and task.is_editable("solution.py")
    assert "\ncheck(has_close_elements)" not in task.files["test.py"]  # the module-level call is dropped


def test_mangled_examples_are_left_out(tasks):
    test = tasks["humanevalfix_119"].files["test.py"]
    assert "test_examples" not in test
    ast.parse(test)


def test_buggy_fails_gold_passes(tasks):
    with LocalSandbox() as sandbox:
        for task_id in ("humanevalfix_0", "humanevalfix_38"):  # the second needs the prompt's encode_cyclic
            task = tasks[task_id]
            buggy = run_files(sandbox, task)
            assert not buggy.resolved and buggy.total >= 1
            assert run_files(sandbox, task, task.gold_files).resolved


def test_the_env(tmp_path):
    env = gym.make("PDB-HumanEvalFix-v0")
    try:
        obs, info = env.reset(options={"task_id": "humanevalfix_2"})
        assert info["suite"] == "humanevalfix" and "solution.py" in obs
    finally:
        env.close()


def test_missing_upstream_data_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GYM_PDB_UPSTREAM", str(tmp_path))
    monkeypatch.setenv("GYM_PDB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="gym-pdb download"):
        HumanEvalFixTasks()
