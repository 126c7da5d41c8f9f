"""Loading suites from the SWE-PDB folder layout, and finding the data."""

from __future__ import annotations

import gymnasium as gym
import pytest

from gym_pdb.tasks.data_dir import DataNotFoundError, resolve_suite_dir
from gym_pdb.tasks.loader import load_task
from gym_pdb.tasks.suites import load_suite
from gym_pdb.tasks.task import matches_any

COUNTS = {"MiniNightmare": 10, "DebugBench": 1126, "HumanEvalBuggy": 134, "MBPPBuggy": 253, "CanItEdit": 104, "SynDebug": 100}


@pytest.mark.parametrize("suite", list(COUNTS))
def test_suite_task_counts(suite, data_dir):
    tasks = load_suite(suite, data_dir, include_broken=True)
    assert len(tasks) == COUNTS[suite]


def test_task_fields(data_dir):
    task = load_suite("MiniNightmare", data_dir)["config"]
    assert set(task.files) == {"config_code.py", "test.py"}
    assert task.test_files == ["test.py"] and task.readonly == ["*test*.py"]
    assert task.entrypoint == "config_code.py"
    assert not task.is_editable("test.py") and task.is_editable("config_code.py")
    assert not task.is_visible("__pycache__/x.pyc") and task.is_visible("config_code.py")
    assert task.test_command == "python -m pytest --tb=short -sq test.py"


def test_canitedit_question_is_the_instruction(data_dir):
    task = load_suite("CanItEdit", data_dir)["100_pandas_apply"]
    assert task.prompt.startswith("Fix the `calculate_all_properties`")
    assert "question.txt" not in task.files


def test_demo_suite_ships_gold_fixes():
    tasks = load_suite("Demo")
    assert list(tasks) == ["binary_search", "inventory", "running_mean"]
    for task in tasks.values():
        assert set(task.gold_files) == {"solution.py"} and task.gold_files["solution.py"] != task.files["solution.py"]
        assert not any(p.startswith(".gold") for p in task.files)


def test_custom_suite(tmp_path):
    task_dir = tmp_path / "mine" / "t1"
    task_dir.mkdir(parents=True)
    (task_dir / "prog.py").write_text("def f():\n    return 1\n")
    (task_dir / "test.py").write_text("from prog import f\n\ndef test_f():\n    assert f() == 2\n")
    env = gym.make("PDB-Custom-v0", data_dir=str(tmp_path / "mine"))
    obs, info = env.reset()
    assert info["task_id"] == "t1" and "prog.py" in obs
    assert env.step("eval")[4]["tests_total"] == 1
    env.close()
    assert load_task(task_dir).readonly == ["test.py"]


def test_missing_data_names_all_three_places(tmp_path, monkeypatch):
    monkeypatch.setenv("GYM_PDB_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GYM_PDB_OFFLINE", "1")
    with pytest.raises(DataNotFoundError) as err:
        resolve_suite_dir("debugbench")
    message = str(err.value)
    assert "data_dir argument" in message and "GYM_PDB_DATA" in message and "gym-pdb download" in message
    with pytest.raises(DataNotFoundError):
        gym.make("PDB-DebugBench-v0")


def test_data_dir_argument_wins(data_dir, monkeypatch):
    monkeypatch.setenv("GYM_PDB_DATA", "/nonexistent")
    assert resolve_suite_dir("debugbench", data_dir) == data_dir / "debugbench"
    assert resolve_suite_dir("debugbench", data_dir / "debugbench") == data_dir / "debugbench"


@pytest.mark.parametrize(
    "path, patterns, expected",
    [
        ("test.py", ["test.py"], True),
        ("a/test.py", ["test.py"], True),
        ("my_test_x.py", ["*test*.py"], True),
        ("solution.py", ["*test*.py"], False),
        ("__pycache__/m.pyc", ["__pycache__/"], True),
        ("__pycache__", ["__pycache__/"], False),
        ("build/x.py", ["/build"], True),
        ("src/build/x.py", ["/build/"], False),
        ("notes.log", ["*.log"], True),
    ],
)
def test_gitignore_style_patterns(path, patterns, expected):
    assert matches_any(path, patterns) is expected
