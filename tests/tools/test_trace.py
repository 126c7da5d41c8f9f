"""The trace tool through the env, on every backend: tests and programs traced, never judged."""

from __future__ import annotations

import pytest

from gym_pdb.env import PDBEnv
from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS

TOOLS = [*DEFAULT_TOOLS, "trace"]

PROGRAM = """
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def mean(values):
    total = 0
    for v in values:
        total += v
    return total / (len(values) - 1)


if __name__ == "__main__":
    print("mean", mean([2, 4]))
"""

TEST = """
from solution import fib, mean


def test_fib():
    assert fib(12) == 144


def test_mean():
    assert mean([1, 2, 3]) == 2
"""

GOLD = PROGRAM.replace("(len(values) - 1)", "len(values)")

TASK = Task(id="traced", suite="Tests", files={"solution.py": PROGRAM, "test.py": TEST}, gold_files={"solution.py": GOLD})


@pytest.fixture
def env(envs, backend):
    key = (backend, "trace")
    if key not in envs:
        envs[key] = PDBEnv(tasks=[TASK], tools=TOOLS, sandbox=backend, max_observation_chars=20_000)
    env = envs[key]
    env.reset(options={"task_id": "traced"})
    return env


def test_a_test_is_traced_call_by_call(env):
    obs, reward, terminated, _, info = env.step("trace test.py::test_mean")
    assert "== test.py::test_mean: failed (AssertionError" in obs
    assert "#1 solution.py:mean(values=[1, 2, 3]) -> 3.0" in obs
    assert "lines 9-12 | branches for@10 x3 | changed total=6, v=3" in obs
    assert "fib" not in obs.split("==", 2)[2]
    assert reward == 0.0 and not terminated and "eval" not in info and info["tool"] == "trace"


def test_the_whole_suite_and_folding(env):
    obs = env.step({"name": "trace", "arguments": {"max_depth": 3}})[0]
    assert "== test.py::test_fib: passed ==" in obs and "== test.py::test_mean: failed" in obs
    assert "465 calls of workspace functions" in obs
    assert "#3 solution.py:fib(n=10) -> 55" in obs and "#4 " not in obs  # #4 is at depth 4
    assert "1 more call of solution.py:fib from #180 on (depth 2-3) folded" in obs
    assert "#289 solution.py:fib(n=10) -> 55" in obs  # the last few folded calls, without their lines
    assert "deeper than max_depth" in obs


def test_a_call_expanded_line_by_line(env):
    obs = env.step("trace test.py::test_mean call=1")[0]
    assert "line by line" in obs
    assert "  10  for v in values:" in obs and "v=1" in obs
    obs = env.step("trace test.py::test_mean call=99")[0]
    assert "Call #99 did not happen in this run (1 call)." in obs


def test_a_program_is_traced_and_its_output_shown(env):
    obs = env.step("trace solution.py function=mean")[0]
    assert "== solution.py: exited normally ==" in obs
    assert "solution.py:mean(values=[2, 4]) -> 6.0" in obs
    assert "Program output:\nmean 6.0" in obs


def test_the_observation_stays_within_its_budget(env):
    env.unwrapped.settings.trace_output_chars = 600
    try:
        obs = env.step("trace max_depth=20 max_calls=500")[0]
    finally:
        env.unwrapped.settings.trace_output_chars = 6000
    assert len(obs) < 800 and "more lines of the trace cut" in obs


def test_a_passing_trace_earns_nothing_and_leaves_the_last_eval(env):
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": GOLD}})
    obs, reward, terminated, _, info = env.step("trace")
    assert "test.py::test_mean: passed" in obs
    assert reward == 0.0 and not terminated and not info["resolved"] and env.unwrapped.last_eval is None
    obs, reward, terminated, _, info = env.step("eval")
    assert reward == 1.0 and terminated


def test_bad_targets_are_observations(env):
    assert env.step("trace nothing.py")[0].startswith("Error: no file 'nothing.py'")
    assert env.step("trace ../x.py")[0].startswith("Error:")
    assert env.step("trace test.py call=0")[0].startswith("Error: call is the number")
    assert "max_calls must be a whole number" in env.step("trace test.py max_calls=many")[0]


def test_a_hanging_test_is_stopped_and_its_trace_kept(envs, backend):
    hang = Task(id="hang", suite="Tests", files={
        "solution.py": "def spin(n):\n    while n > 0:\n        n += 1\n    return n\n",
        "test.py": "from solution import spin\n\ndef test_spin():\n    assert spin(1) == 0\n",
    })  # fmt: skip
    env = PDBEnv(tasks=[hang], tools=TOOLS, sandbox=backend, test_timeout=1.0)
    envs[(backend, "hang")] = env
    env.reset(options={"task_id": "hang"})
    obs = env.step("trace test.py::test_spin")[0]
    assert "test.py::test_spin: timeout" in obs
    assert "#1 solution.py:spin(n=1) !! raised TestTimeout" in obs and "(cut)" in obs


def test_the_command_line_takes_named_arguments_anywhere():
    from gym_pdb.actions import parse_action
    from gym_pdb.tools import make_tools

    tools = make_tools(TOOLS)
    call = parse_action("trace function=mean test.py::test_mean call=3 max_depth=2", tools)
    assert call.arguments == {"target": "test.py::test_mean", "function": "mean", "call": 3, "max_depth": 2}
    assert parse_action("trace", tools).arguments == {}
    assert "trace [FILE::TEST | FILE | PROGRAM] [function=NAME]" in tools["trace"].help()
