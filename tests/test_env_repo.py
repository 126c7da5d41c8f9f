"""Repository tasks in the env, on the Docker backend: every tool on a repository, the verdict, the expert, the audit."""

from __future__ import annotations

import pytest
from repo_testlib import repo_tasks  # noqa: F401 - the session fixture

from gym_pdb.agents import make_agent, run_episode
from gym_pdb.env import PDBEnv
from gym_pdb.tasks.audit import audit_tasks

TOOLZ = "toolz-0.12.1"


@pytest.fixture(scope="module")
def env(repo_tasks):  # noqa: F811
    made = PDBEnv(tasks=repo_tasks, sandbox="docker", sandbox_kwargs={"labels": {"gym-pdb.test": "env-repo"}})
    yield made
    made.close()


def call(env: PDBEnv, name: str, **arguments) -> tuple[str, float, bool, dict]:
    obs, reward, terminated, _, info = env.step({"name": name, "arguments": arguments})
    return obs, reward, terminated, info


@pytest.mark.parametrize("task_id", [TOOLZ, "inflection-0.5.1"])
def test_the_expert_solves_each_repository_task_with_pdb(env, task_id):
    episode = run_episode(env, make_agent("expert"), task_id, max_steps=30)
    assert episode.resolved, episode.step_log[-3:]
    assert episode.tool_counts["pdb"] >= 2 and episode.tool_counts["rewrite"] >= 1 and episode.tool_counts["eval"] >= 1


def test_pdb_view_grep_and_listdir_work_on_the_tree(env):
    obs, _ = env.reset(options={"task_id": TOOLZ})
    assert "toolz/" in obs and "test_dicttoolz.py" not in obs  # the prompt lists two levels, not the whole tree
    obs, *_ = call(env, "listdir", path="toolz", depth=1)
    assert "itertoolz.py" in obs and "__pycache__" not in obs
    obs, *_ = call(env, "grep", pattern="d\\[item\\] = 1")
    assert "toolz/itertoolz.py:549" in obs
    obs, *_ = call(env, "view", path="toolz/itertoolz.py", start=547, end=550)
    assert "d[item] = 1" in obs
    obs, *_ = call(env, "pdb", command="start", runner="pytest", file="toolz/tests/test_itertoolz.py::test_frequencies")
    assert "Started pdb" in obs, obs
    obs, *_ = call(env, "pdb", command="b toolz/itertoolz.py:549")
    assert "Breakpoint" in obs, obs
    obs, *_ = call(env, "pdb", command="c")
    assert "itertoolz.py" in obs and "549" in obs, obs
    obs, *_ = call(env, "pdb", command="p item, dict(d)")
    assert "('cat', {})" in obs, obs


def test_what_a_program_plants_in_the_tree_is_undone_before_the_eval(env):
    env.reset(options={"task_id": TOOLZ})
    container = env.sandbox.container_id
    # A conftest.py that passes every test, and a broken module, written by the agent's program through pdb.
    plant = (
        "!open('toolz/tests/conftest.py','w').write('import pytest\\n@pytest.hookimpl(hookwrapper=True)\\n"
        "def pytest_runtest_call(item):\\n    item.obj = lambda *a, **k: None\\n    yield\\n'); "
        "open('toolz/recipes.py','w').write('raise SystemExit')"
    )
    call(env, "pdb", command="start", runner="python", file="setup.py")
    call(env, "pdb", command=plant)
    obs, reward, terminated, info = call(env, "eval")
    assert reward == 0.0 and not terminated and info["integrity"]["valid"], obs
    assert info["tests_passed"] == 5 and info["tests_total"] == 7, obs  # the repository's own run: the bug fails 2
    assert env.sandbox.container_id == container  # restored in place


def test_a_new_module_that_would_shadow_pytest_voids_the_run(env):
    env.reset(options={"task_id": TOOLZ})
    obs, *_ = call(env, "rewrite", path="pytest.py", new_code="raise SystemExit(0)\n")
    assert "pytest.py" in env.workspace_files(), obs
    obs, reward, _, info = call(env, "eval")
    assert reward == 0.0 and not info["integrity"]["valid"] and "shadow" in obs, obs
    env.reset(options={"task_id": TOOLZ})
    assert "pytest.py" not in env.workspace_files()


def test_the_audit_runs_on_repository_tasks(repo_tasks):  # noqa: F811
    records = audit_tasks(repo_tasks.values(), workers=1, sandbox="docker")
    assert [(r.task_id, r.status) for r in records] == [(t, "ok") for t in repo_tasks], [r.to_dict() for r in records]
    assert all(r.gold is not None and r.gold.resolved and not r.buggy.resolved for r in records)
