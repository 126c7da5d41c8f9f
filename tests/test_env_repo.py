"""Repository tasks in the env, on the Docker backend: every tool on a repository, the verdict, the expert, the audit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gym_pdb.agents import make_agent, run_episode
from gym_pdb.env import PDBEnv
from gym_pdb.sandbox.docker import default_image
from gym_pdb.tasks.audit import audit_tasks
from gym_pdb.tasks.patch import make
from gym_pdb.tasks.repo_dataset import tasks_from_rows
from gym_pdb.tasks.repository import make_repo_task, repo_spec
from tests.conftest import require_backend

TOOLZ = "toolz-0.12.1"


@pytest.fixture(scope="module")
def env(repo_tasks):
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
    assert env.sandbox.wait_warm(60)  # pdb forks from the warm interpreter, which preloads nothing
    obs, *_ = call(env, "pdb", command="start", runner="pytest", file="toolz/tests/test_itertoolz.py::test_frequencies")
    assert "Started pdb" in obs, obs
    obs, *_ = call(env, "pdb", command="b toolz/itertoolz.py:549")
    assert "Breakpoint" in obs, obs
    obs, *_ = call(env, "pdb", command="c")
    assert "itertoolz.py" in obs and "549" in obs, obs
    obs, *_ = call(env, "pdb", command="p item, dict(d)")
    assert "('cat', {})" in obs, obs
    obs, *_ = call(env, "pdb", command="p sorted(m for m in ('numpy', 'pandas') if m in __import__('sys').modules)")
    assert "[]" in obs, obs  # nothing third-party preloaded (the image has both): the repository may be numpy itself


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


def test_the_audit_runs_on_repository_tasks(repo_tasks):
    records = audit_tasks(repo_tasks.values(), workers=1, sandbox="docker")
    assert [(r.task_id, r.status) for r in records] == [(t, "ok") for t in repo_tasks], [r.to_dict() for r in records]
    assert all(r.gold is not None and r.gold.resolved and not r.buggy.resolved for r in records)


def test_the_test_patch_and_hidden_tests_are_there_for_the_eval_only(repo_tasks):
    spec = repo_spec(repo_tasks[TOOLZ])
    assert spec is not None
    hidden = "from toolz import frequencies\n\n\ndef test_hidden():\n    assert frequencies('aab') == {'a': 2, 'b': 1}\n"
    spec = replace(
        spec,
        test_patch=make({}, {"test_hidden.py": hidden}),
        hidden_tests=f"{spec.path}/toolz/tests",
        tests_dest="r2e_tests",
        fail_to_pass=["test_hidden.py::test_hidden", "r2e_tests/test_itertoolz.py::test_frequencies"],
        pass_to_pass=["r2e_tests/test_itertoolz.py::test_take"],
    )
    task = make_repo_task("toolz-hidden", "repo-test", spec)
    env = PDBEnv(tasks=[task], sandbox="docker", sandbox_kwargs={"labels": {"gym-pdb.test": "env-repo"}})
    try:
        env.reset()
        assert "test_hidden.py" not in env.workspace_files()
        obs, reward, _, info = call(env, "eval")
        assert (info["tests_passed"], info["tests_total"], reward) == (1, 3, 0.0), obs
        assert "FAILED   test_hidden.py::test_hidden" in obs and "PASSED   r2e_tests/test_itertoolz.py::test_take" in obs
        entries, _ = env.sandbox.state()
        assert "test_hidden.py" not in entries and "r2e_tests" not in entries  # taken out after the run
        gold = task.gold_files or {}
        for path, text in gold.items():
            call(env, "rewrite", path=path, new_code=text)
        obs, reward, terminated, info = call(env, "eval")
        assert reward == 1.0 and terminated and info["tests_passed"] == 3, obs
    finally:
        env.close()


def test_a_row_with_a_dockerfile_builds_its_image_at_the_first_reset(tmp_path):
    require_backend("docker")
    import docker

    tag = "gym-pdb-test-dockerfile-task:latest"
    (tmp_path / "ctx" / "repo" / "tests").mkdir(parents=True)
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {default_image()}\nCOPY repo /srv/proj\n")
    (tmp_path / "ctx" / "repo" / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "ctx" / "repo" / ".git").mkdir()
    (tmp_path / "ctx" / "repo" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "ctx" / "repo" / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    row = {
        "id": "calc-1", "image": tag, "path": "/srv/proj", "dockerfile": str(tmp_path / "ctx"),
        "fail_to_pass": ["tests/test_calc.py::test_add"], "problem": "add subtracts",
        "gold_patch": "--- a/calc.py\n+++ b/calc.py\n@@ -2 +2 @@\n-    return a - b\n+    return a + b\n",
    }  # fmt: skip
    env = PDBEnv(tasks=tasks_from_rows([row], "rows"), sandbox="docker")
    try:
        obs, _ = env.reset()
        assert "calc.py" in obs and "add subtracts" in obs
        assert ".git" not in env.sandbox.state()[0]  # the image's .git is not copied
        episode = run_episode(env, make_agent("expert"), "calc-1", max_steps=20)
        assert episode.resolved, episode.step_log[-3:]
    finally:
        env.close()
        docker.from_env().images.remove(tag, force=True)


def test_trace_is_refused_on_a_repository_and_leaves_its_tree(repo_tasks):
    env = PDBEnv(tasks=repo_tasks, sandbox="docker", tools=("pdb", "rewrite", "view", "eval", "trace"))
    try:
        env.reset(options={"task_id": TOOLZ})
        obs, *_ = call(env, "trace", target="toolz/tests/test_itertoolz.py::test_frequencies")
        assert "not available on repository tasks" in obs, obs
        _, _, _, info = call(env, "eval")
        assert (info["tests_passed"], info["tests_total"]) == (5, 7) and info["integrity"]["valid"]
    finally:
        env.close()
