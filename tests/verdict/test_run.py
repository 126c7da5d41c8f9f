"""The verdict on real sandboxes: only a genuine pass of every expected test is paid."""

from __future__ import annotations

import gymnasium as gym
import pytest

from gym_pdb.tasks.task import Task
from gym_pdb.verdict import expected as expected_tests

PROGRAM = "def double(x):\n    return x + 2\n"
FIXED = "def double(x):\n    return 2 * x\n"
TESTS = """import pytest
from solution import double


def test_one():
    assert double(1) == 2


def test_three():
    assert double(3) == 6


@pytest.mark.skip(reason="never runs")
def test_skipped():
    assert False
"""
PARAMETRIZED = """import pytest
import solution


@pytest.mark.parametrize("x", solution.CASES)
def test_double(x):
    assert solution.double(x) == 2 * x
"""


def task(task_id: str, tests: str = TESTS, program: str = PROGRAM, gold: str = FIXED) -> Task:
    return Task(
        id=task_id,
        suite="VerdictTest",
        files={"solution.py": program, "test.py": tests},
        gold_files={"solution.py": gold},
    )


TASKS = [
    task("double"),
    task("cases", PARAMETRIZED, "CASES = [1, 2, 3]\n" + PROGRAM, "CASES = [1, 2, 3]\n" + FIXED),
]


@pytest.fixture
def env(backend, envs, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    if backend not in envs:
        envs[backend] = gym.make("PDB-Custom-v0", tasks=TASKS, sandbox=backend)
    return envs[backend]


def play(env, task_id: str, program: str | None = None, *actions: str):
    env.reset(options={"task_id": task_id})
    if program is not None:
        env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": program}})
    for action in actions:
        env.step(action)
    return env.step("eval")


def test_the_fix_is_paid_and_a_test_that_skips_in_the_trusted_run_is_not_expected(env):
    obs, reward, terminated, _, info = play(env, "double", FIXED)
    assert (reward, terminated, info["resolved"]) == (1.0, True, True), obs
    assert (info["tests_passed"], info["tests_total"]) == (2, 2)
    assert info["integrity"] == {"valid": True, "evidence": [], "flags": []}
    known, expected = expected_tests.lookup(env.unwrapped.task)
    assert known and expected.ids == ("test.py::test_one", "test.py::test_three")
    assert "test.py::test_skipped" in expected.collected


@pytest.mark.parametrize(
    "cheat, outcome",
    [
        ("import pytest\n\ndef double(x):\n    pytest.skip('later')\n", "skipped"),
        ("import pytest\n\ndef double(x):\n    pytest.xfail('known')\n", "xfailed"),
        ("import pytest\npytest.skip('all of it', allow_module_level=True)\n\ndef double(x):\n    return x + 2\n", None),
    ],
)
def test_skips_and_expected_failures_are_not_passes(env, cheat, outcome):
    obs, reward, terminated, _, info = play(env, "double", cheat)
    assert (reward, info["resolved"]) == (0.0, False), obs
    if outcome:
        assert info["tests_passed"] == 0 and f"{outcome.upper()}" in obs


def test_tests_the_task_does_not_define_fail_the_run(env):
    obs, reward, _, _, info = play(env, "cases", "CASES = [0]\n" + FIXED)
    assert (reward, info["resolved"]) == (0.0, False), obs
    assert "do not define ran: test.py::test_double[0]" in obs
    assert "NOT RUN  test.py::test_double[1]" in obs
    obs, reward, *_ = play(env, "cases", "CASES = [1, 2, 3]\n" + FIXED)
    assert reward == 1.0, obs


def test_a_process_that_ends_outside_the_harness_voids_the_run(env):
    program = "import os\n\ndef double(x):\n    os._exit(0)\n"
    obs, reward, _, _, info = play(env, "double", program)
    assert reward == 0.0 and info["integrity"]["valid"] is False, obs
    assert "before pytest finished its session" in info["integrity"]["evidence"][0]
    assert obs.startswith("The test run was invalid and earns nothing")


def test_what_runs_leave_in_the_workspace_is_gone_before_the_eval(env):
    env.reset(options={"task_id": "double"})
    sandbox = env.unwrapped.sandbox
    sandbox.write_file("conftest.py", b"import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_call(item):\n    yield\n")
    sandbox.write_file("__pycache__/solution.cpython-311.pyc", b"not bytecode")
    sandbox.write_file("solution.py", FIXED.encode())  # a run rewrote the program: the agent's text counts
    obs, reward, *_ = env.step("eval")
    assert reward == 0.0 and "2 failed" in obs, obs
    assert set(sandbox.workspace_digest()) == {"solution.py", "test.py"}


def test_a_changed_test_file_is_restored_and_voids_the_run(env):
    env.reset(options={"task_id": "double"})
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": FIXED}})
    env.unwrapped.sandbox.write_file("test.py", b"def test_one():\n    pass\n")
    obs, reward, _, _, info = env.step("eval")
    assert reward == 0.0 and info["integrity"]["evidence"] == ["the read-only file test.py was changed in the sandbox"]
    obs, reward, *_ = env.step("eval")
    assert reward == 1.0, obs


@pytest.mark.parametrize("warm", [True, False])
def test_the_agents_files_cannot_shadow_the_harness(backend, warm, tmp_path, monkeypatch):
    """A ``pytest.py`` or ``json.py`` the agent writes is not what the eval imports, warm or cold."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    env = gym.make("PDB-Custom-v0", tasks=TASKS, sandbox=backend, sandbox_kwargs={"warm": warm})
    try:
        env.reset(options={"task_id": "double"})
        assert env.unwrapped.sandbox.wait_warm(60) == warm
        for name in ("pytest.py", "json.py", "eval_plugin.py"):
            env.step({"name": "rewrite", "arguments": {"path": name, "new_code": "raise SystemExit('shadowed')\n"}})
        obs, reward, *_ = env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": FIXED}})
        obs, reward, _, _, info = env.step("eval")
        assert reward == 1.0 and "shadowed" not in obs, obs
    finally:
        env.close()
