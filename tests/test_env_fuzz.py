"""2,000 random and malformed actions: never an exception, and the env stays solvable."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gym_pdb.env import PDBEnv

TOOL_NAMES = ["pdb", "rewrite", "view", "eval", "grep", "listdir", "submit", "shell", ""]
ARG_NAMES = ["command", "runner", "file", "path", "start", "end", "new_code", "pattern", "max_results", "depth",
             "include_line_numbers_and_breakpoints", "bogus"]  # fmt: skip
PDB_COMMANDS = ["b solution.py:3", "b 99", "c", "n", "s", "p start", "p values", "pp locals()", "l", "ll", "w", "u",
                "d", "a", "cl 1", "q", "restart", "start", "tbreak solution.py:6", "j 2", "display x", "interact",
                "p (", "!x = 1", ""]  # fmt: skip

values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.text(max_size=30), st.sampled_from(PDB_COMMANDS),
    st.sampled_from(["solution.py", "test.py", "../x", "/etc/passwd", ".", "pytest", "python", "test.py::test_bad_window"]),
    st.lists(st.integers(), max_size=3),
)  # fmt: skip
json_calls = st.builds(
    lambda name, args, as_string: json.dumps({"name": name, "arguments": json.dumps(args) if as_string else args}),
    st.sampled_from(TOOL_NAMES),
    st.dictionaries(st.sampled_from(ARG_NAMES), values, max_size=4),
    st.booleans(),
)
command_lines = st.builds(
    lambda name, rest: f"{name} {rest}",
    st.sampled_from(TOOL_NAMES + ["b", "c", "pdb start"]),
    st.one_of(st.text(alphabet=string.printable, max_size=40), st.sampled_from(PDB_COMMANDS)),
)
garbage = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=40),
    st.sampled_from(["{", "[", "<tool_call>", "<tool_call>{}</tool_call>", '{"function": 3}', "null", "\x00", "\n\n"]),
)
actions = st.one_of(json_calls, command_lines, garbage)


@pytest.fixture(scope="module")
def env():
    e = PDBEnv(suite="Demo", pdb_timeout=2, test_timeout=1, eval_timeout=10)
    yield e
    e.close()


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(actions, min_size=100, max_size=100))
def test_random_actions_never_raise(env, batch):
    env.reset(options={"task_id": "running_mean"})
    for action in batch:
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert isinstance(reward, float) and not truncated
        assert set(info) >= {"task_id", "tool", "parse_error"}
        if terminated:
            env.reset(options={"task_id": "running_mean"})
    gold = env.tasks["running_mean"].gold_files["solution.py"]
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": gold}})
    obs, reward, terminated, _, info = env.step("eval")
    assert info["resolved"] and terminated and reward == 1.0, obs
