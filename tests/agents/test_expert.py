"""The scripted expert: its plan (hunks, breakpoint, values) and real episodes on every suite with gold fixes."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from agent_testlib import write_task

import gym_pdb
from gym_pdb.agents import make_agent, run_episode
from gym_pdb.agents.expert import Hunk, breakpoint_target, file_hunks, has_gold_fix
from gym_pdb.tasks.data_dir import DataNotFoundError
from gym_pdb.tasks.registry import TASK_SOURCES

INVENTORY = """class Inventory:
    def __init__(self):
        self.stock = {}

    def remove(self, name, count=1):
        have = self.stock.get(name, 0)
        left = have - count
        if left < 0:
            del self.stock[name]
        else:
            self.stock[name] = left
        return [n for n in self.stock if n != name]
"""


def test_breakpoint_goes_on_the_statement_inside_the_function():
    line, exprs = breakpoint_target(INVENTORY, 8)
    assert (line, exprs) == (8, ["left"])
    assert breakpoint_target(INVENTORY, 11) == (11, ["self.stock", "name", "left"])
    assert breakpoint_target(INVENTORY, 6) == (6, ["self.stock", "name"])  # callee .get left out
    assert breakpoint_target(INVENTORY, 12) == (
        12,
        ["self.stock", "name"],
    )  # n is the comprehension's
    assert breakpoint_target(INVENTORY, 5)[0] == 6  # a def line: its first statement
    assert breakpoint_target(INVENTORY, 10)[0] == 8  # an else: line: the if
    assert breakpoint_target("X = 1\nY = X + 1\n", 2) is None  # module level
    assert breakpoint_target("def f(:\n", 1) is None


def test_hunks_replace_insert_and_delete():
    buggy = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
    gold = "a\nB\nc\nd\ne\nf\nnew\ng\nh\nj\n"
    hunks = file_hunks("x.py", buggy, gold)
    assert [(h.start, h.end, h.code, h.focus) for h in hunks] == [(2, 2, "B", 2), (7, 9, "new\ng\nh", 7)]
    assert file_hunks("x.py", "a\nb\n", "a\nb\nc") == [Hunk("x.py", 3, 2, "c", focus=2)]  # an insertion at the end
    whole = file_hunks("x.py", "a\nb\nc\n", "x\ny\nz\n")
    assert len(whole) == 1 and whole[0].whole_file


def test_docstring_comment_and_blank_line_changes_are_left_out():
    buggy = "def f(xs):\n    \n    total = 0\n    for x in xs:\n        total += x\n    return total - 1\n"
    gold = (
        'def f(xs):\n    """Sum xs."""\n    total = 0  # start\n    for x in xs:\n        total += x\n\n'
        "    return total\n"
    )
    (hunk,) = file_hunks("x.py", buggy, gold)
    assert (hunk.start, hunk.end, hunk.code, hunk.focus) == (6, 6, "\n    return total\n", 6)
    rewrite = file_hunks("x.py", buggy, "def f(xs):\n    return sum(xs)\n")
    assert rewrite[0].whole_file and rewrite[0].focus == 3  # most of it changes: whole file, break at the first change


def test_expert_rewrites_reproduce_the_gold_files(tmp_path):
    buggy = "def f(x):\n    y = x + 1\n    z = y * 2\n    return z\n\n\ndef g(x):\n    return x\n\n\nUNUSED = 1\n"
    gold = "def f(x):\n    y = x + 2\n    z = y * 2\n    return z\n\n\ndef g(x):\n    w = x\n    return w - 1\n"
    test = (
        "from solution import f, g\n\n\ndef test_f():\n    assert f(1) == 6\n\n\ndef test_g():\n    assert g(1) == 0\n"
    )
    extra = {"helper.py": "VALUE = 2\n"}
    root = tmp_path / "suite"
    write_task(root, "two_files", {"solution.py": buggy, "test.py": test}, {"solution.py": gold, **extra})
    env = gym.make("PDB-Custom-v0", data_dir=str(root), max_episode_steps=30)
    agent = make_agent("expert")
    try:
        episode = run_episode(env, agent, "two_files", max_steps=30)
    finally:
        env.close()
    assert episode.resolved and episode.error == ""
    assert episode.final_files["solution.py"] == gold and episode.final_files["helper.py"] == extra["helper.py"]
    calls = [m["tool_calls"][0]["function"]["name"] for m in episode.messages if m.get("tool_calls")]
    assert calls[:2] == ["eval", "view"] and calls[-1] == "eval" and calls.count("rewrite") == 3
    pdb = [m["content"] for m in episode.messages if m["role"] == "tool"][2:6]
    assert "Current frame: solution.py:2 in f()" in pdb[-2] and pdb[-1].startswith("1")  # stopped, printed x


def test_expert_refuses_a_task_without_gold(tmp_path):
    root = tmp_path / "suite"
    write_task(root, "no_gold", {"solution.py": "X = 1\n", "test.py": "def test_x():\n    assert False\n"})
    env = gym.make("PDB-Custom-v0", data_dir=str(root))
    try:
        episode = run_episode(env, make_agent("expert"), "no_gold")
    finally:
        env.close()
    assert episode.stop_reason == "error" and "needs a gold fix" in episode.error


# The suites whose gold fixes come with gym-pdb (DESIGN.md: EvalPlus, DebugBench's oracle, the generator).
GOLD_SUITES = {"PDB-Demo-v0", "PDB-HumanEvalBuggy-v0", "PDB-MBPPBuggy-v0", "PDB-DebugBench-v0", "PDB-Synthetic-v0"}
SAMPLE = 3


# Sources named by data_dir (Custom, Repo) have no tasks of their own; the repository examples run on Docker
# only, and tests/test_env_repo.py plays the expert on them.
NOT_HERE = {s.env_id for s in TASK_SOURCES.values() if s.from_data_dir} | {"PDB-RepoExamples-v0"}


@pytest.mark.parametrize("env_id", sorted(set(gym_pdb.ENV_IDS) - NOT_HERE))
def test_expert_resolves_every_task_with_a_gold_fix(env_id, data_dir):
    try:
        env = gym.make(env_id, max_episode_steps=30)
        tasks = env.unwrapped.tasks
        ids = list(env.unwrapped.task_ids)
        if not ids and tasks.unbounded:
            rng = np.random.default_rng(0)
            ids = list(dict.fromkeys(tasks.sample(rng) for _ in range(SAMPLE)))
    except DataNotFoundError as exc:
        pytest.fail(f"{env_id}: {exc}")
    try:
        order = np.random.default_rng(0).permutation(len(ids))
        sample = list(itertools.islice((ids[i] for i in order if has_gold_fix(tasks[ids[i]])), SAMPLE))
        if not sample:
            if env_id in GOLD_SUITES:
                pytest.fail(f"{env_id} has no task with a gold fix")
            pytest.skip(f"{env_id} has no gold fixes")
        agent = make_agent("expert")
        for task_id in sample:
            episode = run_episode(env, agent, task_id, max_steps=30)
            assert episode.resolved, (
                f"{env_id} {task_id}: {episode.stop_reason} {episode.error}\n{episode.messages[-1]}"
            )
            assert episode.tool_counts["rewrite"] >= 1 and episode.tool_counts["eval"] == 2
    finally:
        env.close()
