"""The `swe-pdb` profile's shortcuts: its eval's two runs at once, no pdb process started only to be replaced."""

from __future__ import annotations

import os
import time

import pytest

from gym_pdb.env import PDBEnv
from gym_pdb.profiles.swe_pdb import eval as swe_eval


@pytest.fixture
def env(release):
    env = PDBEnv(suite="Demo", sandbox="local", profile="swe-pdb")
    env.reset(options={"task_id": "inventory"})
    yield env
    env.close()


def spy(env: PDBEnv, method: str) -> list[tuple[list[str], float, float]]:
    """Each call of the sandbox's ``method``: (argv, start, end)."""
    calls: list[tuple[list[str], float, float]] = []
    real = getattr(env.sandbox, method)

    def wrapper(argv, *args, **kwargs):
        start = time.monotonic()
        try:
            return real(argv, *args, **kwargs)
        finally:
            calls.append((list(argv), start, time.monotonic()))

    setattr(env.sandbox, method, wrapper)
    return calls


def test_eval_runs_the_plain_run_beside_the_judged_one(env):
    calls = spy(env, "run")
    obs, *_, info = env.step("eval")
    plain = [c for c in calls if c[0][1:] == list(swe_eval.entrypoint())[1:]]
    judged = [c for c in calls if c not in plain]
    assert len(plain) == 1 and len(judged) == 1
    assert plain[0][1] < judged[0][2] and judged[0][1] < plain[0][2]  # they overlap
    assert "FAILED test.py::test_item_gone_at_zero" in obs and info["eval"]["passed"] == 2


def test_an_envs_plain_runs_share_a_thread_that_a_forked_child_makes_anew(env):
    plain_runs = env.tools["eval"].plain_runs
    env.step("eval")
    pool = plain_runs.pool()
    obs, *_ = env.step("eval")
    assert plain_runs.pool() is pool and "FAILED test.py::test_item_gone_at_zero" in obs
    other = PDBEnv(suite="Demo", sandbox="local", profile="swe-pdb")
    try:
        assert other.tools["eval"].plain_runs.pool() is not pool  # one per env, none in the module
    finally:
        other.close()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the parent's thread is not here: a new pool, whose thread runs
        try:
            fresh = plain_runs.pool()
            os.write(write, b"ok" if fresh is not pool and fresh.submit(lambda: 6 * 7).result(timeout=10) == 42 else b"no")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 2) == b"ok"
    os.waitpid(pid, 0)


def test_a_failed_judged_run_waits_for_the_plain_one(env, monkeypatch):
    ended = []
    real = swe_eval.observation

    def slow(ctx):
        time.sleep(0.3)
        ended.append(True)
        return real(ctx)

    def fails(ctx, synced=None):
        raise RuntimeError("judged run failed")

    monkeypatch.setattr(swe_eval, "observation", slow)
    monkeypatch.setattr(swe_eval, "run_tests", fails)
    with pytest.raises(RuntimeError, match="judged run failed"):
        swe_eval.judged_and_observed(env._context(), env.tools["eval"].plain_runs)
    assert ended == [True]


def test_eval_observation_is_the_plain_runs_on_the_agents_files(env):
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "start": 40, "new_code": "print('marker', 6 * 7)"}})
    env.sandbox.write_file("solution.py", b"raise SystemExit('stale')\n")  # the sync puts the agent's file back first
    obs, *_, info = env.step("eval")
    assert obs.startswith("marker 42\n") and "stale" not in obs
    assert info["eval"]["passed"] == 2


def test_tampering_found_by_the_one_sync_still_voids_the_run(env):
    env.sandbox.write_file("test.py", b"def test_nothing():\n    pass\n")
    result = env.tools["eval"](env._context())
    assert not result.eval.valid and any("read-only file test.py" in e for e in result.eval.evidence)


@pytest.mark.parametrize(
    ("first", "spawned"),
    [("pdb start pytest test.py", 1), ("pdb p 6 * 7", 1), ({"name": "pdb", "arguments": {"command": "start"}}, 1)],
)
def test_a_first_start_spawns_one_pdb_process(env, first, spawned):
    calls = spy(env, "spawn")
    env.step(first)
    assert len(calls) == spawned
    assert env.step("pdb p 6 * 7")[0] == "Pdb command output:\n42\n"  # a session runs either way
    assert len(calls) == spawned
