"""Third-party clients against ``gym-pdb serve``: OpenEnv's generic client and its MCP client."""

from __future__ import annotations

import httpx
import pytest
from openenv.core.generic_client import GenericEnvClient
from openenv.core.mcp_client import MCPToolClient
from servelib import own_sandbox_dirs, play_expert, serve_process, served, wait_until

from gym_pdb.tasks.task import Task


@pytest.fixture(scope="module")
def server():
    with served(max_sessions=8) as (url, app):
        yield url, app


def test_generic_client_runs_an_episode_the_expert_solves(server):
    url, app = server
    with GenericEnvClient(base_url=url).sync() as env:
        result = env.reset(task_id="binary_search", seed=3)
        observation = result.observation
        assert observation["env_id"] == "PDB-Demo-v0" and "solution.py" in observation["text"]
        assert {t["function"]["name"] for t in observation["tools"]} >= {"pdb", "rewrite", "eval"}
        info = observation["info"]
        assert info["task_id"] == "binary_search" and info["integrity"] == {"valid": True, "evidence": [], "flags": []}

        # The task, gold fix included, from OpenEnv's task API.
        http = httpx.post(url.replace("ws://", "http://") + "/PDB-Demo-v0/task", json={"split": "all", "index": 0})
        task = Task.from_dict(http.json()["task"])
        assert task.id == "binary_search" and task.gold_files

        def step(name, arguments):
            r = env.step({"tool": name, "arguments": arguments})
            return r.observation["text"], r.reward, r.done, r.observation["info"]

        reward, done, info = play_expert(step, task, observation["text"])
        assert reward == 1.0 and done and info["resolved"] and info["tests_passed"] == info["tests_total"] == 3
        assert info["integrity"]["valid"] and info["tool"] == "eval" and info["eval"]["passed"] == 3
        state = env.state()
        assert state["resolved"] and state["progress"] == 1.0 and state["task_id"] == "binary_search"
        assert "lo" in state["files"]["solution.py"] and state["step_count"] == info["step"]

        # Command lines and JSON strings work as in process; a malformed action is an observation.
        r = env.step({"text": "view solution.py 1 3"})
        assert "1" in r.observation["text"] and r.observation["info"]["tool"] == "view"
        r = env.step({"text": "frobnicate"})
        assert r.observation["info"]["parse_error"] and "Unknown tool" in r.observation["text"] or r.observation["text"]
    wait_until(lambda: not own_sandbox_dirs() and app.state.openenv.active_sessions == 0, what="the sandbox to go")


def test_mcp_client_lists_and_calls_the_tools(server):
    url, app = server
    with MCPToolClient(base_url=url.replace("ws://", "http://")).sync() as env:
        env.reset(task_id="inventory")
        tools = {t.name: t for t in env.list_tools()}
        assert set(tools) == {"pdb", "rewrite", "view", "eval", "grep", "listdir"}
        assert tools["rewrite"].input_schema["required"] == ["path", "new_code"] or "path" in tools["rewrite"].input_schema["properties"]
        listing = env.call_tool("listdir")
        assert "inventory.py" in listing or "solution.py" in listing
        started = env.call_tool("pdb", command="start", runner="pytest", file="test.py")
        assert "Started pdb" in started
        assert "2" in env.call_tool("pdb", command="p 1+1")
        report = env.call_tool("eval")
        assert "tests passed" in report
        state = env.state()
        assert state.step_count >= 4
    wait_until(lambda: not own_sandbox_dirs() and app.state.openenv.active_sessions == 0, what="the sandbox to go")


def test_the_cli_serves_with_a_token(tmp_path):
    with serve_process("--env", "PDB-Demo-v0", "--max-sessions", "2", env={"GYM_PDB_SERVE_TOKEN": "s3cret"}) as (url, _):
        http = url.replace("ws://", "http://")
        assert httpx.get(http + "/health").status_code == 200  # health checks need no token
        assert httpx.get(http + "/metadata").status_code == 401
        assert httpx.get(http + "/metadata", headers={"Authorization": "Bearer s3cret"}).json()["name"] == "PDB-Demo-v0"
        with pytest.raises(ConnectionError, match="403"):
            GenericEnvClient(base_url=url).sync().connect()
        with pytest.raises(ConnectionError, match="403"):
            GenericEnvClient(base_url=url, headers={"Authorization": "Bearer wrong"}).sync().connect()
        with GenericEnvClient(base_url=url, headers={"Authorization": "Bearer s3cret"}).sync() as env:
            assert env.reset(task_id="running_mean").observation["info"]["task_id"] == "running_mean"


def test_binding_beyond_loopback_needs_a_token(monkeypatch):
    from gym_pdb.serve.app import ServeConfig

    monkeypatch.delenv("GYM_PDB_SERVE_TOKEN", raising=False)
    with pytest.raises(ValueError, match="GYM_PDB_SERVE_TOKEN"):
        ServeConfig(host="0.0.0.0")
    assert ServeConfig(host="0.0.0.0", token="t").token == "t"
    assert ServeConfig(host="::1").token is None
