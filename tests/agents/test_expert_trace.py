"""The expert's trace mode: it reads a function-level trace where the pdb mode uses pdb, and resolves the task."""

from __future__ import annotations

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401
from gym_pdb.agents import make_agent, run_episode
from gym_pdb.agents.expert_trace import enclosing_function, first_call

SOURCE = """
class Stack:
    def push(self, item):
        def check(x):
            return x is not None
        return check(item)


def top(items):
    return items[-1]
"""


def test_the_function_holding_a_line_is_named_as_the_trace_names_it():
    assert enclosing_function(SOURCE, 6) == "Stack.push"
    assert enclosing_function(SOURCE, 5) == "Stack.push.<locals>.check"
    assert enclosing_function(SOURCE, 10) == "top"
    assert enclosing_function(SOURCE, 1) is None


def test_the_first_call_of_a_function_is_read_off_the_trace():
    trace = "== test.py::t: failed ==\n#3 solution.py:Stack.pop(self=<...>) -> 1\n  #7 solution.py:top(items=[1]) -> 1\n"
    assert first_call(trace, "solution.py", "top") == 7
    assert first_call(trace, "solution.py", "Stack.pop") == 3
    assert first_call(trace, "other.py", "top") is None


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode is one of pdb, trace"):
        make_agent("expert", mode="gdb")


@pytest.mark.parametrize(
    "env_id, task_ids",
    [
        ("PDB-Demo-v0", ["inventory", "running_mean", "binary_search"]),
        ("PDB-HumanEvalBuggy-v0", ["humaneval_0", "humaneval_1", "humaneval_3"]),
        ("PDB-MBPPBuggy-v0", ["mbpp_2", "mbpp_3"]),
        ("PDB-DebugBench-v0", ["problem_0", "problem_1"]),
    ],
)
def test_the_expert_demonstrates_with_trace(env_id, task_ids, data_dir):
    agent = make_agent("expert", mode="trace")
    assert "trace" in agent.tools and "pdb" not in agent.tools
    env = gym.make(env_id, max_episode_steps=30, tools=list(agent.tools), test_timeout=2.0)
    try:
        traced = 0
        for task_id in task_ids:
            episode = run_episode(env, agent, task_id, max_steps=30)
            assert episode.resolved, f"{task_id}: {episode.stop_reason} {episode.error} {episode.messages[-1:]}"
            assert "pdb" not in episode.tool_counts and episode.tool_counts["eval"] == 2
            assert "trace" in [t["function"]["name"] for t in episode.tools]
            traced += episode.tool_counts["trace"]
            expanded = [m for m in episode.messages if m["role"] == "tool" and "line by line" in m["content"]]
            if episode.tool_counts["trace"] == 2:
                assert expanded, task_id
        assert traced >= len(task_ids)
    finally:
        env.close()
