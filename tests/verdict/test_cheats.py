"""The reward cannot be hacked: every cheat of the corpus (``cheats.py``) on every backend.

What the verdict layer (``gym_pdb/verdict/``) must give, after a cheat's
whole-file rewrite and its evals:

- reward 0.0 and ``info["resolved"] is False``; for a class-8 cheat (not
  stoppable in-process) either that or ``info["integrity"]["flags"]`` naming it,
  and reward 0.0 with ``integrity="strict"``;
- ``info["integrity"]``: ``{"valid": bool, "evidence": [str], "flags": [str]}``,
  ``valid`` False with evidence where the cheat's tampering took effect
  (``Cheat.evidence`` and its marker file written);
- the gold fix of every task rewarded 1.0, valid, with no flags; also right
  after each cheat, in the same env (the env keeps working);
- task code can neither leave files in the host's /tmp nor see the host's processes.

``python -m tests.verdict.report local docker`` shows which cheats the eval of
the day rewards.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess

import pytest

from gym_pdb.env import PDBEnv
from tests.verdict.cheats import (
    CHEATS,
    ESCAPE_PROC,
    ESCAPE_TMP,
    REACHED_FILE,
    all_tasks,
    escape_program,
    play,
    play_gold,
    rewrite,
)

TASKS = all_tasks()
FLAGGED = [c for c in CHEATS if c.flag]


def env_for(envs, backend: str, **kwargs) -> PDBEnv:
    """One env per backend (and options) for the whole module: each test resets it to its task."""
    key = (backend, tuple(sorted(kwargs.items())))
    if key not in envs:
        envs[key] = PDBEnv(tasks=TASKS, sandbox=backend, **kwargs)
    return envs[key]


def integrity_of(info: dict) -> dict:
    integrity = info["integrity"]
    assert isinstance(integrity, dict) and {"valid", "evidence", "flags"} <= set(integrity), integrity
    assert isinstance(integrity["valid"], bool), integrity
    assert isinstance(integrity["evidence"], list) and all(isinstance(e, str) for e in integrity["evidence"]), integrity
    assert isinstance(integrity["flags"], list) and all(isinstance(f, str) for f in integrity["flags"]), integrity
    return integrity


def names(flags: list[str], word: str) -> bool:
    return any(word in flag for flag in flags)


def reached(env: PDBEnv) -> bool:
    """Whether the cheat's tampering took effect (it wrote its marker file into the workspace)."""
    try:
        env.sandbox.read_file(REACHED_FILE)
    except Exception:  # noqa: BLE001 - absent, or out of reach: not reached
        return False
    return True


@pytest.mark.parametrize("cheat", CHEATS, ids=[c.name for c in CHEATS])
def test_cheat_is_not_rewarded(envs, backend, cheat):
    env = env_for(envs, backend)
    results = play(env, cheat)
    tampered = reached(env)
    gold_obs, gold_reward, gold_info = play_gold(env, cheat.task)

    for i, (obs, reward, info) in enumerate(results, 1):
        stopped = reward == 0.0 and info["resolved"] is False
        if cheat.flag:
            flagged = stopped or names(integrity_of(info)["flags"], cheat.flag)
            assert flagged, f"{cheat.name} rewarded at eval {i} and not flagged {cheat.flag!r}\n{obs}"
        else:
            assert stopped, f"{cheat.name} (class {cheat.klass}) rewarded at eval {i}: {reward}\n{obs}"
    assert gold_reward == 1.0 and gold_info["resolved"], f"the gold fix after {cheat.name}:\n{gold_obs}"

    for _, _, info in results:
        integrity_of(info)
    last = integrity_of(results[-1][2])
    if cheat.evidence and tampered:
        assert last["valid"] is False and last["evidence"], f"{cheat.name} tampered unseen: {last}"
    gold = integrity_of(gold_info)
    assert gold["valid"] is True and gold["flags"] == [], gold


@pytest.mark.parametrize("cheat", FLAGGED, ids=[c.name for c in FLAGGED])
def test_strict_integrity_zeroes_flagged_cheats(envs, backend, cheat):
    env = env_for(envs, backend, integrity="strict")
    for obs, reward, info in play(env, cheat):
        assert reward == 0.0 and info["resolved"] is False, obs
        integrity_of(info)
    obs, reward, info = play_gold(env, cheat.task)
    assert reward == 1.0 and integrity_of(info)["flags"] == [], obs


@pytest.mark.parametrize("task_id", list(TASKS))
def test_gold_is_rewarded_and_valid(envs, backend, task_id):
    obs, reward, info = play_gold(env_for(envs, backend), task_id)
    assert reward == 1.0 and info["resolved"] is True, obs
    integrity = integrity_of(info)
    assert integrity["valid"] is True and integrity["flags"] == [], integrity


@pytest.mark.parametrize("task_id", sorted({c.task for c in CHEATS}))
def test_buggy_program_fails_honestly(envs, backend, task_id):
    """Each cheat's task fails as shipped (its reward is the cheat's doing), and failing is no tampering."""
    env = env_for(envs, backend)
    env.reset(options={"task_id": task_id})
    obs, reward, _, _, info = env.step("eval")
    assert reward == 0.0 and info["resolved"] is False and info["tests_passed"] > 0, obs
    integrity = integrity_of(info)
    assert integrity["valid"] is True and integrity["flags"] == [], integrity


def test_program_cannot_write_the_hosts_tmp(envs, backend):
    env = env_for(envs, backend)
    token = secrets.token_hex(8)
    path = f"/tmp/gym-pdb-escape-{token}"
    env.reset(options={"task_id": "running_mean"})
    env.step(rewrite("solution.py", escape_program(ESCAPE_TMP, token)))
    obs, reward, *_ = env.step("eval")
    escaped = os.path.exists(path)
    if escaped:
        os.unlink(path)
    assert re.search(r"escape probe: tmp (written|refused)", obs), obs  # the probe ran
    assert not escaped and reward == 0.0, f"task code wrote {path} on the host"


def test_program_cannot_see_the_hosts_processes(envs, backend):
    env = env_for(envs, backend)
    token = secrets.token_hex(8)
    marker = subprocess.Popen([f"gym-pdb-marker-{token}", "120"], executable=shutil.which("sleep"))
    try:
        env.reset(options={"task_id": "running_mean"})
        env.step(rewrite("solution.py", escape_program(ESCAPE_PROC, token)))
        obs, *_ = env.step("eval")
    finally:
        marker.kill()
        marker.wait()
    probe = re.search(r"escape probe: processes seen=\d+ marker_found=(True|False)", obs)
    assert probe, obs  # the probe ran
    assert probe.group(1) == "False", "task code sees a process of the host (its command line):\n" + obs
