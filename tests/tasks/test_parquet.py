"""The SWE-PDB RL parquet tasks, loaded into Task and run in the env."""

from __future__ import annotations

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401 - registers the environments
from gym_pdb.env import PDBEnv
from gym_pdb.tasks.parquet import load_parquet, row_to_task

TASK_ID = "acecode_bigcode_python_fns_19240_codellama_instruct_0"


@pytest.fixture
def rl_tasks(data_dir):
    path = data_dir / "rl_test.parquet"
    if not path.is_file():
        pytest.fail(f"no RL parquet at {path}: set GYM_PDB_DATA")
    return path, load_parquet(path)


def test_rows_become_tasks(rl_tasks):
    _, tasks = rl_tasks
    assert len(tasks) == 100
    task = tasks[TASK_ID]
    assert set(task.files) == {f"{TASK_ID}_code.py", "test.py"}
    assert task.test_files == ["test.py"] and not task.is_editable("test.py")
    assert task.entrypoint == f"{TASK_ID}_code.py"
    assert task.prompt.startswith("Investigate the repository") and task.metadata["task_name"] == TASK_ID
    assert sum(set(t.files) == {"solution.py", "test.py"} for t in tasks.values()) == 50


def test_the_tasks_run_in_the_env(rl_tasks):
    _, tasks = rl_tasks
    env = PDBEnv(tasks=tasks)
    try:
        obs, info = env.reset(options={"task_id": TASK_ID})
        assert info["task_id"] == TASK_ID and f"{TASK_ID}_code.py" in obs
        _, _, terminated, _, info = env.step("eval")
        assert not terminated and info["tests_total"] > 0 and info["tests_passed"] < info["tests_total"]
        obs, *_ = env.step("rewrite test.py 1:1\nimport os")
        assert "test.py is read-only" in obs
        obs, info = env.reset(seed=3)
        assert info["task_id"] in tasks
    finally:
        env.close()


def test_custom_env_reads_a_parquet_file(rl_tasks):
    path, _ = rl_tasks
    env = gym.make("PDB-Custom-v0", data_dir=str(path))
    try:
        assert len(env.unwrapped.task_ids) == 100
    finally:
        env.close()


def test_a_row_without_files_is_refused_clearly():
    with pytest.raises(ValueError, match="no files"):
        row_to_task({"task_id": "t", "extra_info": {"files": []}}, "rl")
    with pytest.raises(FileNotFoundError, match="no parquet file"):
        load_parquet("/nonexistent/rl.parquet")
