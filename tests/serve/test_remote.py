"""``gym.make(ID, remote=URL)`` and ``gym-pdb eval --remote``: the local env's API over a served session."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from servelib import own_sandbox_dirs, served, wait_until

import gym_pdb  # noqa: F401
from gym_pdb.evaluation.cli import cmd_eval
from gym_pdb.serve.remote import RemoteEnvError, RemotePDBEnv


@pytest.fixture(scope="module")
def server():
    with served(max_sessions=8) as (url, app):
        yield url, app


def test_remote_env_passes_check_env_and_matches_the_local_env(server):
    url, _ = server
    remote = gym.make("PDB-Demo-v0", remote=url, max_episode_steps=5)
    local = gym.make("PDB-Demo-v0", max_episode_steps=5)
    try:
        assert isinstance(remote.unwrapped, RemotePDBEnv)
        assert remote.observation_space == local.observation_space and remote.action_space == local.action_space
        check_env(remote.unwrapped, skip_render_check=True)
        for env in (remote, local):
            env.reset(seed=0)
        obs_r, info_r = remote.reset(options={"task_id": "inventory"})
        obs_l, info_l = local.reset(options={"task_id": "inventory"})
        assert obs_r == obs_l and info_r.keys() == info_l.keys()
        actions = ["view inventory.py 1 5", {"name": "pdb", "arguments": {"command": "p 1+1"}}, "eval", "bogus", "eval"]
        for action in actions:
            r, here = remote.step(action), local.step(action)
            assert r[0] == here[0] or action in ("eval", "bogus") or "pdb" in json.dumps(action)
            assert r[1:4] == here[1:4] and r[4]["tool"] == here[4]["tool"] and r[4]["integrity"] == here[4]["integrity"]
        assert r[3] is True  # truncated by the client's step limit, as locally
        assert remote.unwrapped.workspace_files() == local.unwrapped.workspace_files()
        assert remote.unwrapped.tools_schema() == local.unwrapped.tools_schema()
        assert remote.unwrapped.task.gold_files == local.unwrapped.task.gold_files
        assert remote.unwrapped.task_ids == local.unwrapped.task_ids
    finally:
        remote.close()
        local.close()


def test_remote_envs_in_vector_envs(server):
    url, app = server
    fns = [lambda: gym.make("PDB-Demo-v0", remote=url, max_episode_steps=3)] * 2
    for envs in (gym.vector.SyncVectorEnv(fns), gym.vector.AsyncVectorEnv(fns, shared_memory=False)):
        try:
            observations, infos = envs.reset(seed=[1, 2])
            assert len(observations) == 2 and all("Files in the workspace" in o for o in observations)
            observations, rewards, terminated, truncated, infos = envs.step(["pdb p 40+2", "listdir"])
            assert "42" in observations[0] and "test.py" in observations[1]
        finally:
            envs.close()
    wait_until(lambda: app.state.openenv.active_sessions == 0 and not own_sandbox_dirs(), what="the sessions to go")


def test_a_session_moves_to_the_next_server_when_its_own_is_gone(server):
    url_b, app_b = server
    with served(max_sessions=2) as (url_a, app_a):
        env = gym.make("PDB-Demo-v0", remote=[url_a, url_b])
        env.reset(options={"task_id": "binary_search"})
        assert env.unwrapped.url == url_a
    # Server A stopped under the env: its step fails clearly, its next reset lands on B.
    with pytest.raises(RemoteEnvError, match="was lost during step.*reset\\(\\) starts a new episode on another server"):
        env.step("pdb p 1")
    observation, info = env.reset(options={"task_id": "binary_search"})
    assert env.unwrapped.url == url_b and info["task_id"] == "binary_search"
    assert "2" in env.step("pdb p 1+1")[0]
    env.close()


def test_remote_env_refuses_what_the_server_decides():
    with pytest.raises(ValueError, match="sandbox are the server's to set"):
        gym.make("PDB-Demo-v0", remote="ws://127.0.0.1:9", sandbox="docker")
    env = gym.make("PDB-Demo-v0", remote="ws://127.0.0.1:9")  # nothing listens on port 9
    with pytest.raises(RemoteEnvError, match="no gym-pdb server took the session"):
        env.reset()
    env.close()


def test_eval_spreads_episodes_over_servers(server, tmp_path, capsys):
    url_b, app_b = server
    with served(max_sessions=2) as (url_a, app_a):
        before = (app_a.state.sessions.made, app_b.state.sessions.made)
        args = {"env": ["PDB-Demo-v0"], "agent": "expert", "remote": [url_a, url_b], "n_parallel": 2,
                "output": str(tmp_path / "run"), "quiet": True}  # fmt: skip
        assert cmd_eval(__import__("argparse").Namespace(**args)) == 0
        made = (app_a.state.sessions.made - before[0], app_b.state.sessions.made - before[1])
    rows = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(r["resolved"] and not r["error"] for r in rows), rows
    assert all(n > 0 for n in made), made
    assert json.loads((tmp_path / "run" / "config.json").read_text())["remote"] == [url_a, url_b]
