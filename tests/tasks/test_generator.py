"""The bug generator behind PDB-Synthetic-v0: operators, determinism, verification, splits."""

from __future__ import annotations

import ast
import random

import gymnasium as gym
import numpy as np
import pytest

import gym_pdb  # noqa: F401 - registers the environments
from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.tasks.check import run_files
from gym_pdb.tasks.generator import FAMILIES, SourceProgram, SyntheticTasks, load_sources, split_of
from gym_pdb.tasks.generator.operators import apply_mutations, candidate_mutations, choose_mutations

#: A small correct program with a site for every operator family.
PROGRAM = '''\
"""Statistics over a list of numbers."""

LIMIT = 100  # module constants are never mutated


def stats(values, threshold):
    """Count, sum and the values above threshold."""
    total = 0
    count = 0
    big = []
    for i in range(len(values)):
        v = values[i]
        if v > threshold and not v == 0:
            big.append(v)
        total += v * 2
        count = count + 1
    quotient, remainder = divmod(total, 7)
    return sorted(big), total / count if count else 0, quotient, remainder, count > 3


def ok(values):
    return True
'''
TESTS = '''\
from solution import *


def test_basic():
    assert stats([1, 5, 9], 4) == ([5, 9], 10.0, 4, 2, False)


def test_empty():
    assert stats([], 0) == ([], 0, 0, 0, False)


def test_many():
    assert stats([0, 2, 4, 6, 8], 3) == ([4, 6, 8], 8.0, 5, 5, True)


def test_negative():
    assert stats([-3, 3, 10], -5) == ([-3, 3, 10], 6.666666666666667, 2, 6, False)


def test_ok():
    assert ok([]) is True
'''
SEEDS = [0, 1, 4]
SOURCE = SourceProgram(id="stats", group="stats", program="solution.py", files={"solution.py": PROGRAM, "test.py": TESTS})


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_finds_sites_and_keeps_the_program_valid(family):
    candidates = candidate_mutations(PROGRAM, random.Random(0), [family])
    assert candidates.get(family), f"{family} found nothing to mutate"
    for mutation in candidates[family]:
        mutant = apply_mutations(PROGRAM, [mutation])
        assert mutant != PROGRAM
        ast.parse(mutant)
        assert "LIMIT = 100" in mutant and '"""Count, sum and the values above threshold."""' in mutant


def test_mutations_keep_the_rest_of_the_file_byte_for_byte():
    mutation = candidate_mutations(PROGRAM, random.Random(3), ["comparison"])["comparison"][0]
    mutant = apply_mutations(PROGRAM, [mutation])
    assert mutant[: mutation.start] == PROGRAM[: mutation.start]
    assert mutant.endswith(PROGRAM[mutation.end :])


def test_off_by_one_folds_constants():
    text = "def f(xs):\n    return xs[-1] + sum(range(len(xs) - 1))\n"
    replacements = {m.replacement for m in candidate_mutations(text, random.Random(0), ["off_by_one"])["off_by_one"]}
    assert replacements & {"-2", "0"} and replacements & {"len(xs)", "len(xs) - 2"}


def test_several_bugs_never_overlap():
    candidates = candidate_mutations(PROGRAM, random.Random(1))
    chosen = choose_mutations(candidates, 4, random.Random(2))
    assert len(chosen) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(chosen) for b in chosen[i + 1 :])
    ast.parse(apply_mutations(PROGRAM, chosen))


@pytest.fixture(scope="module")
def generated():
    """Tasks from the crafted program, one family at a time, plus a 2-3-bug one."""
    tasks = {}
    for family in FAMILIES:
        source = SyntheticTasks(split="all", families=[family], programs=[SOURCE])
        try:
            tasks[family] = source.generate(7)
        finally:
            source.close()
    source = SyntheticTasks(split="all", bugs=(2, 3), programs=[SOURCE])
    tasks["multi"] = source.generate(11)
    source.close()
    return tasks


def test_each_family_yields_a_verified_task(generated):
    for family in FAMILIES:
        task = generated[family]
        assert task.metadata["families"] == [family] and task.metadata["num_bugs"] == 1
        assert task.gold_files == {"solution.py": PROGRAM} and task.files["solution.py"] != PROGRAM
    multi = generated["multi"]
    assert 2 <= multi.metadata["num_bugs"] <= 3 and len(multi.metadata["bugs"]) == multi.metadata["num_bugs"]


def test_generated_tasks_fail_and_their_gold_passes(generated):
    with LocalSandbox() as sandbox:
        for task in (generated["dropped_statement"], generated["swapped_arguments"], generated["multi"]):
            buggy = run_files(sandbox, task)
            assert not buggy.resolved and not buggy.timed_out and buggy.total == 5
            assert run_files(sandbox, task, task.gold_files).resolved


def test_same_seed_same_task_on_separate_generators():
    a, b = SyntheticTasks(), SyntheticTasks()
    try:
        ta, tb = a.generate(2024), b.generate(2024)
        assert ta.id == tb.id == "syn-train-2024"
        assert ta.files == tb.files and ta.metadata == tb.metadata
        assert a.sample(np.random.default_rng(5)) == b.sample(np.random.default_rng(5))
        assert list(a) == list(b) and len(a) == 2
    finally:
        a.close()
        b.close()


LOOP = SourceProgram(
    id="loop", group="loop", program="solution.py",
    files={
        "solution.py": "def count_up(n):\n    i = 0\n    while i < n:\n        i += 1\n    return i\n\n\n"
                       "def unused():\n    return 2\n",
        "test.py": "from solution import *\n\ndef test_count_up():\n    assert count_up(3) == 3\n",
    },
)  # fmt: skip


def test_mutants_that_pass_or_hang_are_rejected_and_counted():
    source = SyntheticTasks(split="all", families=["arithmetic", "wrong_return"], programs=[LOOP], test_timeout=1.0)
    try:
        tasks = [source.generate(seed) for seed in SEEDS]
    finally:
        source.close()
    assert source.stats["accepted"] == len(SEEDS)
    assert source.stats["rejected:passes"] >= 1  # unused() returning 1 or 3: no test notices
    assert source.stats["rejected:timeout"] >= 1  # i -= 1: the loop never ends
    for task in tasks:
        assert "i -= 1" not in task.files["solution.py"] and "return 2" in task.files["solution.py"]


def test_a_program_whose_gold_fails_is_never_used():
    broken = SourceProgram(
        id="broken", group="broken", program="solution.py",
        files={"solution.py": "def f():\n    return 1 + 1\n", "test.py": "from solution import *\n\ndef test_f():\n    assert f() == 3\n"},
    )  # fmt: skip
    source = SyntheticTasks(split="all", programs=[broken], max_attempts=3)
    try:
        with pytest.raises(RuntimeError, match="gold-fails"):
            source.generate(0)
    finally:
        source.close()


def test_train_and_test_splits_share_no_problem():
    programs = load_sources(("humaneval",))
    train = {p.group for p in programs if split_of(p.group) == "train"}
    test = {p.group for p in programs if split_of(p.group) == "test"}
    assert train and test and not train & test
    assert 0.1 < len(test) / len(programs) < 0.3
    generator = SyntheticTasks(split="test")
    try:
        assert {p.group for p in generator.programs} == test
        task = generator.generate(5)
        assert task.metadata["split"] == "test" and task.metadata["group"] in test and task.id.startswith("syn-test-")
    finally:
        generator.close()


def test_split_is_by_problem_across_sources():
    assert split_of("HumanEval/12") == split_of("HumanEval/12")
    programs = load_sources(("humaneval",))
    by_group = {p.group: p for p in programs}
    assert set(by_group) == {f"HumanEval/{i}" for i in range(164)}


def test_bad_knobs_are_refused_clearly():
    with pytest.raises(ValueError, match="split"):
        SyntheticTasks(split="dev")
    with pytest.raises(ValueError, match="families"):
        SyntheticTasks(families=["typo"])
    with pytest.raises(ValueError, match="min_bugs"):
        SyntheticTasks(bugs=(3, 1))


def test_the_env_generates_a_new_task_at_each_reset():
    env = gym.make("PDB-Synthetic-v0")
    try:
        _, first = env.reset(seed=1)
        _, second = env.reset()
        assert first["task_id"] != second["task_id"]
        assert env.unwrapped.task_ids == [first["task_id"], second["task_id"]]
        assert env.unwrapped.tasks[first["task_id"]].gold_files
        _, _, _, _, info = env.step("eval")
        assert 0 < info["tests_total"] and info["tests_passed"] < info["tests_total"]
        _, again = env.reset(seed=1)
        assert again["task_id"] == first["task_id"]
    finally:
        env.close()


def test_a_fresh_source_regenerates_a_task_by_its_id():
    import gymnasium as gym

    first = gym.make("PDB-Synthetic-v0")
    second = gym.make("PDB-Synthetic-v0")
    try:
        obs, info = first.reset(seed=1)
        obs2, info2 = second.reset(options={"task_id": info["task_id"]})
        assert info2["task_id"] == info["task_id"] and obs2 == obs
        assert "syn-test-1" not in second.unwrapped.tasks and "nope" not in second.unwrapped.tasks
    finally:
        first.close()
        second.close()
