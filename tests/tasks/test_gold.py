"""Metadata and gold fixes joined from the upstream originals."""

from __future__ import annotations

import ast

import pytest

from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.tasks import upstream
from gym_pdb.tasks.adapt import add_missing_imports, solution_to_functions
from gym_pdb.tasks.check import run_files
from gym_pdb.tasks.gold import DebugBenchJoiner, JoinedTasks, MiniNightmareJoiner, gold_hash, load_verified
from gym_pdb.tasks.suites import SUITES, load_suite


def candidates(suite: str, data_dir):
    """The suite with every candidate gold attached, verified or not (what the audit sees)."""
    return SUITES[suite].load(data_dir, include_broken=True, verified_only=False)


@pytest.fixture(scope="module")
def sandbox():
    with LocalSandbox() as sb:
        yield sb


def assert_gold_fixes(sandbox, task):
    assert task.gold_files and set(task.gold_files) == {task.entrypoint}
    assert not run_files(sandbox, task).resolved
    gold = run_files(sandbox, task, task.gold_files)
    assert gold.resolved, gold.output[-2000:]


def test_humaneval_gold_is_the_evalplus_reference(data_dir, sandbox):
    task = candidates("HumanEvalBuggy", data_dir)["humaneval_0"]
    assert task.metadata["source"] == "HumanEval/0" and task.metadata["entry_point"] == "has_close_elements"
    gold = task.gold_files["solution.py"]
    assert gold.startswith("from typing import List") and "for i in range(len(sorted_numbers) - 1):" in gold
    assert_gold_fixes(sandbox, task)


def test_mbpp_gold_is_the_evalplus_reference(data_dir, sandbox):
    task = candidates("MBPPBuggy", data_dir)["mbpp_2"]
    assert task.metadata["source"] == "Mbpp/2" and task.metadata["entry_point"] == "similar_elements"
    assert "return tuple(set(test_tup1) & set(test_tup2))" in task.gold_files["solution.py"]
    assert_gold_fixes(sandbox, task)


def test_debugbench_record_matched_through_a_rename(data_dir, sandbox):
    task = candidates("DebugBench", data_dir)["problem_1000"]  # get_max_repetitions ~ getMaxRepetitions
    meta = task.metadata
    assert meta["upstream_key"] == "undefined methods#17" and meta["slug"] == "count-the-repetitions"
    assert meta["bug_type"] == "undefined methods" and meta["category"] == "reference error"
    assert meta["level"] in ("easy", "medium", "hard")
    key, score = DebugBenchJoiner.match(task, upstream.find_upstream(upstream.DEBUGBENCH, data_dir))
    assert key == meta["upstream_key"] and score > 0.95  # the matcher finds what the verified list keeps
    assert "def get_max_repetitions(s1: str, n1: int, s2: str, n2: int)" in task.gold_files["solution.py"]
    assert "calculateRemainder" not in task.gold_files["solution.py"]  # the undefined method is gone
    assert_gold_fixes(sandbox, task)


def test_debugbench_gold_defines_the_names_the_tests_call(data_dir, sandbox):
    task = candidates("DebugBench", data_dir)["problem_38"]  # the tests call getAllElements
    assert task.metadata["name_mismatch"] == ["getAllElements"]
    gold = task.gold_files["solution.py"]
    assert "def getAllElements(" in gold and "get_all_elements = getAllElements" in gold
    assert_gold_fixes(sandbox, task)


def test_a_program_with_no_debugbench_record_gets_no_gold(data_dir):
    task = candidates("DebugBench", data_dir)["problem_467"]  # a fragment of module-level code
    assert task.gold_files is None and "upstream_key" not in task.metadata


def test_mini_nightmare_hints_and_canitedit_instruction(data_dir):
    tasks = load_suite("MiniNightmare", data_dir, include_broken=True)
    assert tasks["tomorrow_date"].metadata["hint"] == "`Feb 29 + 1` in leap years."
    assert "action_str" in tasks["scientific_calculator"].metadata["hint"]  # "7.scienfitic calculator" upstream
    assert tasks["config"].metadata["summary"] == "Dynamic attribute access and management."
    assert not tasks["config"].prompt.count("Hint")  # hints are metadata, never in the prompt
    task = load_suite("CanItEdit", data_dir, include_broken=True)["100_pandas_apply"]
    assert task.metadata["instruction"].startswith("Fix the `calculate_all_properties`")


def test_only_verified_golds_are_attached(data_dir):
    raw = candidates("DebugBench", data_dir)
    verified = load_verified("debugbench")
    assert len(verified) > 1000
    attached = load_suite("DebugBench", data_dir, include_broken=True)
    for task_id in ["problem_0", "problem_38", "problem_1000", "problem_467", *list(verified)[:40]]:
        gold = attached[task_id].gold_files
        entry = verified.get(task_id, {})
        if entry.get("gold"):
            assert gold is not None and gold_hash(gold) == entry["gold"] == gold_hash(raw[task_id].gold_files)
        else:
            assert gold is None


def test_a_gold_that_differs_from_the_verified_one_is_dropped(data_dir):
    base = SUITES["MiniNightmare"].load(data_dir, include_broken=True, verified_only=False).base

    class Tampered(MiniNightmareJoiner):
        def join(self, task, key=None):
            joined = super().join(task, key)
            joined.gold_files = {task.entrypoint: "# a wrong fix\n"}
            return joined

    assert JoinedTasks(base, "mini_nightmare", Tampered(data_dir))["config"].gold_files is None
    assert JoinedTasks(base, "mini_nightmare", Tampered(data_dir), verified_only=False)["config"].gold_files


def test_every_registered_suite_with_upstream_golds_has_some(data_dir):
    for suite, folder, least in [("HumanEvalBuggy", "humaneval_buggy", 120), ("MBPPBuggy", "mbpp_buggy", 240),
                                 ("DebugBench", "debugbench", 1000), ("HumanEvalFix", "humanevalfix", 160)]:  # fmt: skip
        golds = sum(1 for e in load_verified(folder).values() if e.get("gold"))
        assert golds >= least, f"{suite}: only {golds} verified golds"


# -- the mechanical rewrites ---------------------------------------------------------
ORACLE_PLAIN = '''class Solution:
    def maxDepth(self, root: Optional[TreeNode]) -> int:
        return self.helper(root, 0)

    def helper(self, node, depth):
        if not node:
            return depth
        return max(self.helper(node.left, depth + 1), self.helper(node.right, depth + 1))
'''
ORACLE_STATEFUL = '''class Solution:
    def countNodes(self, root) -> int:
        self.total = 0
        self.walk(root)
        return self.total

    def walk(self, node):
        if node:
            self.total += 1
            self.walk(node.left)
            self.walk(node.right)
'''
PROGRAM = '''from typing import Optional


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val, self.left, self.right = val, left, right


def max_depth(root: Optional[TreeNode]) -> int:
    return helper(root, 1)


def helper(node, depth):
    return depth


print(max_depth(None))
'''


def test_a_solution_class_becomes_plain_functions():
    gold = solution_to_functions(ORACLE_PLAIN, PROGRAM, expected_names=["maxDepth", "TreeNode"])
    tree = ast.parse(gold)
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert names == ["TreeNode", "maxDepth", "helper"]
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert all(a.arg != "self" for fn in functions for a in fn.args.args)
    assert "max_depth = maxDepth" in gold and gold.rstrip().endswith("print(max_depth(None))")
    scope: dict = {}
    exec(compile(gold, "gold", "exec"), scope)
    root = scope["TreeNode"](1, scope["TreeNode"](2, scope["TreeNode"](3)))
    assert scope["maxDepth"](root) == 3 and scope["max_depth"](None) == 0


def test_a_stateful_solution_stays_a_class_behind_functions():
    program = "def count_nodes(root):\n    return 0\n"
    gold = solution_to_functions(ORACLE_STATEFUL, program)
    assert "class Solution" in gold and "return Solution().countNodes(*args, **kwargs)" in gold
    scope: dict = {}
    exec(compile(gold, "gold", "exec"), scope)
    node = type("N", (), {"left": None, "right": None})
    assert scope["count_nodes"](node) == 1


def test_no_shared_function_means_no_gold():
    assert solution_to_functions(ORACLE_PLAIN, "def other():\n    pass\n") is None
    assert solution_to_functions("def f(:\n", PROGRAM) is None


def test_missing_imports_are_added_from_the_standard_modules():
    src = "def f(xs: List[int]) -> int:\n    h = []\n    heapq.heappush(h, inf)\n    return defaultdict(int)\n"
    fixed = add_missing_imports(src)
    assert fixed.splitlines()[:4] == [
        "from collections import defaultdict", "from math import inf", "from typing import List", "import heapq",
    ]  # fmt: skip
    assert add_missing_imports("x = 1\n") == "x = 1\n"


def test_the_matcher_reproduces_the_verified_keys(data_dir):
    import random

    tasks = load_suite("DebugBench", data_dir, include_broken=True)
    verified = load_verified("debugbench")
    folder = upstream.find_upstream(upstream.DEBUGBENCH, data_dir)
    for task_id in random.Random(0).sample(sorted(verified), 25):
        key, score = DebugBenchJoiner.match(tasks[task_id], folder)
        assert key == verified[task_id]["key"] and score >= 0.6
