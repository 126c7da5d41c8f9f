"""PDBEnv through the Gymnasium API, on every backend."""

from __future__ import annotations

import json
import os
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import gym_pdb
from gym_pdb.env import CHARSET, PDBEnv
from tests.conftest import own_processes, require_backend

INFO_KEYS = {"task_id", "tool", "parse_error", "tests_passed", "tests_total", "resolved", "breakpoints", "current_frame", "elapsed"}


def solve_running_mean(env) -> list:
    """The quickstart episode: break, inspect, rewrite, eval."""
    steps = [
        "pdb start pytest test.py::test_windows_of_two",
        "pdb b solution.py:7",
        "pdb c",
        "pdb p start, len(values) - window",
        "rewrite solution.py 6:6\n    for start in range(len(values) - window + 1):",
        "eval",
    ]
    return [env.step(action) for action in steps]


@pytest.fixture
def env(backend):
    e = gym.make("PDB-Demo-v0", sandbox=backend, render_mode="ansi")
    yield e
    e.close()


def test_ids_are_registered():
    for env_id in ["PDB-MiniNightmare-v0", "PDB-DebugBench-v0", "PDB-HumanEvalBuggy-v0", "PDB-MBPPBuggy-v0",
                   "PDB-CanItEdit-v0", "PDB-SynDebug-v0", "PDB-Demo-v0", "PDB-Custom-v0"]:  # fmt: skip
        assert env_id in gym.registry
    assert gym.spec("PDB-DebugBench-v0").max_episode_steps == gym_pdb.MAX_EPISODE_STEPS


def test_make_with_module_prefix():
    env = gym.make("gym_pdb:PDB-Demo-v0")
    assert isinstance(env.unwrapped, PDBEnv)
    env.close()


def test_scripted_episode_solves_the_task(env):
    obs, info = env.reset(options={"task_id": "running_mean"})
    assert "solution.py" in obs and "test.py (read-only)" in obs
    assert INFO_KEYS <= set(info)
    results = solve_running_mean(env)
    obs, reward, terminated, truncated, info = results[2]
    assert info["current_frame"] == "solution.py:7 in running_mean()" and info["breakpoints"] == ["solution.py:7"]
    frame = info["frame"]  # the same frame as data, with the listing the reply showed
    assert (frame["file"], frame["line"], frame["function"]) == ("solution.py", 7, "running_mean")
    assert frame["listing"] in obs and frame["listing"].splitlines()[7 - frame["first_line"]].startswith("   7 B->")
    assert "eval" not in info
    assert results[3][0].startswith("(0, 2)")
    assert "pdb session was restarted" in results[4][0]
    obs, reward, terminated, truncated, info = results[5]
    assert reward == 1.0 and terminated and not truncated
    assert info["resolved"] and info["tests_passed"] == info["tests_total"] == 4
    assert [t["outcome"] for t in info["eval"]["tests"]] == ["passed"] * 4 and info["eval"]["passed"] == 4
    assert all(r[1] == 0.0 for r in results[:5])
    assert "pdb b solution.py:7" not in env.render() and '"b solution.py:7"' in env.render()


def test_every_observation_lies_in_the_space(env):
    env.reset(options={"task_id": "running_mean"})
    env.step("rewrite solution.py 1:1\ndef running_mean(values, window):  # caf\u00e9 \u2603")
    for action in ["view solution.py", "eval", "grep caf", "pdb start python solution.py", "nonsense \u2603"]:
        obs, *_ = env.step(action)
        assert env.observation_space.contains(obs), action
    assert "\\u2603" in env.step("view solution.py 1 1")[0]


def test_check_env_passes_without_warnings():
    env = PDBEnv(suite="Demo")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)
    env.close()


def test_seeded_reset_is_reproducible():
    a, b = PDBEnv(suite="DebugBench"), PDBEnv(suite="DebugBench")
    try:
        first = [a.reset(seed=7)[1]["task_id"]] + [a.reset()[1]["task_id"] for _ in range(4)]
        second = [b.reset(seed=7)[1]["task_id"]] + [b.reset()[1]["task_id"] for _ in range(4)]
        assert first == second and len(set(first)) > 1
        assert a.reset(seed=7)[0] == b.reset(seed=7)[0]
    finally:
        a.close()
        b.close()


def test_unknown_task_and_step_before_reset():
    env = PDBEnv(suite="Demo")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("eval")
    with pytest.raises(ValueError, match="unknown task_id"):
        env.reset(options={"task_id": "nope"})
    env.close()


def test_step_limit_truncates():
    env = gym.make("PDB-Demo-v0", max_episode_steps=2)
    env.reset(options={"task_id": "inventory"})
    assert env.step("listdir")[3] is False
    assert env.step("listdir")[3] is True
    env.close()


@pytest.mark.parametrize("mode, rewards", [("sparse", [0.0, 0.0, 1.0]), ("fraction", [0.0, 0.0, 1.0]), ("shaped", [0.5, 0.0, 0.5])])
def test_reward_modes(mode, rewards):
    env = PDBEnv(suite="Demo", reward_mode=mode)
    env.reset(options={"task_id": "running_mean"})
    got = [env.step("eval")[1], env.step("view solution.py")[1]]
    got.append(env.step("rewrite solution.py 6:6\n    for start in range(len(values) - window + 1):")[1] + env.step("eval")[1])
    assert got == rewards
    env.close()


def test_submit_ends_the_episode_with_partial_credit():
    env = PDBEnv(suite="Demo", reward_mode="fraction", tools=["view", "eval", "submit"])
    env.reset(options={"task_id": "running_mean"})
    _, reward, terminated, _, info = env.step("submit")
    assert terminated and reward == 0.5 and not info["resolved"]
    env.close()


def test_tools_schema_matches_swe_pdb():
    env = PDBEnv(suite="Demo")
    schema = {t["function"]["name"]: t["function"]["parameters"] for t in env.tools_schema()}
    assert list(schema) == ["pdb", "rewrite", "view", "eval", "grep", "listdir"]
    assert set(schema["pdb"]["properties"]) == {"command", "runner", "file"}
    assert set(schema["rewrite"]["properties"]) == {"path", "start", "end", "new_code"}
    assert set(schema["view"]["properties"]) == {"path", "start", "end", "include_line_numbers_and_breakpoints"}
    assert schema["eval"]["properties"] == {}
    assert set(schema["grep"]["properties"]) == {"pattern", "path", "max_results"}
    assert set(schema["listdir"]["properties"]) == {"path", "depth"}
    json.dumps(env.tools_schema())
    env.close()


def test_infinite_loop_fails_one_test_and_the_others_run(backend):
    env = gym.make("PDB-Demo-v0", sandbox=backend, test_timeout=2, pdb_timeout=3)
    env.reset(options={"task_id": "binary_search"})
    obs, reward, terminated, _, info = env.step("eval")
    assert info["tests_total"] == 3 and info["tests_passed"] == 1
    assert "FAILED   test.py::test_absent" in obs and "FAILED   test.py::test_finds_last" in obs
    assert "ran for more than 2s and was stopped" in obs and "solution.py" in obs
    obs, *_ = env.step("pdb start pytest test.py::test_absent")
    obs, *_, info = env.step("pdb c")
    assert "did not finish" in obs and "breakpoints kept" in obs
    assert env.step("pdb p 1 + 1")[0].startswith("2")
    env.step("rewrite solution.py 9:9\n            lo = mid + 1")
    assert env.step("eval")[4]["resolved"]
    env.close()


def test_huge_output_is_cut(env):
    env.reset(options={"task_id": "inventory"})
    env.step("rewrite solution.py 1:1\nprint('x' * 10_000_000)\nclass Inventory:")
    for action in ["eval", "pdb start python solution.py", "pdb n"]:
        obs, *_ = env.step(action)
        assert len(obs) <= env.observation_space.max_length
    assert env.step("pdb p 6 * 7")[0].startswith("42")


@pytest.mark.skipif(os.geteuid() != 0, reason="the process limit holds only when the sandbox can drop to its own uid")
def test_fork_bomb_and_memory_hog_are_contained(backend):
    env = gym.make("PDB-Demo-v0", sandbox=backend, test_timeout=2, eval_timeout=20)
    env.reset(options={"task_id": "inventory"})
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "start": 1, "end": 0, "new_code": bomb}})
    obs, *_ = env.step("eval")
    assert "0/3" in obs
    env.step("rewrite solution.py 1:6\nhog = bytearray(16 * 1024**3)")
    obs, *_ = env.step("eval")
    assert "MemoryError" in obs or "0/3" in obs
    env.reset(options={"task_id": "inventory"})
    env.step("rewrite solution.py 15:15\n        if left == 0:")
    assert env.step("eval")[4]["resolved"]
    env.close()


def test_no_process_or_file_left_after_close(backend):
    env = PDBEnv(suite="Demo", sandbox=backend)
    env.reset(options={"task_id": "running_mean"})
    env.step("pdb start pytest test.py")
    sandbox = env._sandbox
    uid = getattr(sandbox, "uid", None)
    root = getattr(sandbox, "root", None)
    env.close()
    if uid is not None:
        assert own_processes(uid) == []
    if root is not None:
        assert not os.path.exists(root)


@pytest.mark.parametrize("vector", ["sync", "async"])
def test_vector_env_of_four(vector):
    fns = [lambda: gym.make("PDB-Demo-v0") for _ in range(4)]
    envs = gym.vector.SyncVectorEnv(fns) if vector == "sync" else gym.vector.AsyncVectorEnv(fns, shared_memory=False)
    try:
        obs, infos = envs.reset(seed=3)
        assert len(obs) == 4 and all("test.py" in o for o in obs)
        obs, rewards, terminated, truncated, infos = envs.step(["eval", "listdir", "view solution.py", "bogus"])
        assert len(obs) == 4 and list(terminated) == [False] * 4
        assert infos["tool"].tolist() == ["eval", "listdir", "view", ""]
        assert "There is no tool 'bogus'" in obs[3]
    finally:
        envs.close()


def test_text_charset_covers_code():
    code = "def f(x):\n\treturn {'a': [x, (1, 2)]} | x ** 2 % 3  # ~`@$^&*_+-=\\\"'<>?;:,./\n"
    assert set(code) <= CHARSET


def test_docker_backend_selected_by_env_var(monkeypatch):
    require_backend("docker")
    monkeypatch.setenv("GYM_PDB_SANDBOX", "docker")
    env = PDBEnv(suite="Demo")
    try:
        env.reset(options={"task_id": "inventory"})
        assert env._sandbox.info.extra["backend"] == "docker"
    finally:
        env.close()
