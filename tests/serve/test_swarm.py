"""The server image on a single-node Docker Swarm: 2 replicas, 16 clients, one replica killed mid-run.

CI's kernel has no IPVS, so Swarm's ingress routing mesh cannot run: the
test deploys docker/stack.yaml with its port published in host mode and no
fixed port (each replica gets its own), and the clients list both replicas
(remote=[a, b]), as the README says to do without the mesh. Needs dockerd
in Swarm mode and the server image (scripts/ci-docker.sh makes both); in CI
(CI set) their absence fails the test.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import gymnasium as gym
import httpx
import pytest
import yaml
from servelib import REPO

import gym_pdb  # noqa: F401
from gym_pdb.serve.remote import RemoteEnvError
from tests.conftest import docker_problem, require

CLIENTS = 16
SERVER_IMAGE = os.environ.get("GYM_PDB_SERVER_IMAGE", "gym-pdb-server:latest")
REPLICA_LABEL = "gym-pdb.replica"


def _problem() -> str | None:
    problem = docker_problem()
    if problem:
        return problem
    import docker

    client = docker.from_env()
    try:
        if client.info().get("Swarm", {}).get("LocalNodeState") != "active":
            return "dockerd is not in Swarm mode (docker swarm init --advertise-addr 127.0.0.1)"
        client.images.get(SERVER_IMAGE)
    except docker.errors.ImageNotFound:
        return f"the server image {SERVER_IMAGE} is missing (docker/build-server-image.sh)"
    finally:
        client.close()
    return None


@pytest.fixture(scope="module")
def docker_client():
    require(_problem(), "Swarm mode")
    import docker

    client = docker.from_env()
    yield client
    client.close()


def _stack_file(tmp_path) -> str:
    """docker/stack.yaml with its port in host mode and no fixed port (no routing mesh here)."""
    stack = yaml.safe_load((REPO / "docker" / "stack.yaml").read_text())
    stack["services"]["server"]["ports"] = [{"target": 8000, "protocol": "tcp", "mode": "host"}]
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(stack))
    return str(path)


def _containers(client, label: str, all: bool = True) -> list[dict]:
    """The engine's plain list (no inspect per container, which races with containers going away)."""
    return client.api.containers(all=all, filters={"label": label})


def _replicas(client, stack: str) -> dict[str, str]:
    """Running replicas: Swarm task id -> ws URL of the port the replica's container was given."""
    found = {}
    for c in _containers(client, f"com.docker.swarm.service.name={stack}_server", all=False):
        ports = [p["PublicPort"] for p in c.get("Ports") or [] if p.get("PrivatePort") == 8000 and p.get("PublicPort")]
        if c.get("State") == "running" and ports:
            found[c["Labels"]["com.docker.swarm.task.id"]] = f"ws://127.0.0.1:{ports[0]}"
    return found


def _exactly(n: int, found: dict) -> dict | None:
    return found if len(found) == n else None


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url.replace("ws://", "http://") + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(1)


def _sandboxes(client, replicas) -> list[dict]:
    return [c for c in _containers(client, REPLICA_LABEL) if c["Labels"].get(REPLICA_LABEL) in replicas]


def test_two_replicas_sixteen_clients_one_replica_killed(docker_client, tmp_path):
    stack = f"gympdbtest{secrets.token_hex(3)}"
    token = secrets.token_hex(16)
    data = tmp_path / "data"
    data.mkdir()
    deploy_env = {**os.environ, "GYM_PDB_SERVE_TOKEN": token, "GYM_PDB_ENV": "PDB-Demo-v0", "GYM_PDB_REPLICAS": "2",
           "GYM_PDB_DATA_HOST": str(data), "GYM_PDB_MAX_SESSIONS": "32", "GYM_PDB_REAP_INTERVAL": "3",
           "GYM_PDB_SERVER_IMAGE": SERVER_IMAGE}  # fmt: skip
    deploy = ["docker", "stack", "deploy", "--resolve-image", "never", "-c", _stack_file(tmp_path), stack]
    subprocess.run(deploy, check=True, env=deploy_env, capture_output=True, timeout=120)
    begun = time.time()
    try:
        replicas = _wait(lambda: _exactly(2, _replicas(docker_client, stack)), 180, "2 replicas")
        _wait(lambda: all(_healthy(u) for u in replicas.values()), 180, "both replicas to serve")
        (victim, victim_url), (survivor, survivor_url) = sorted(replicas.items())

        # 16 clients, half starting on each replica; each may move to the other one.
        urls = [victim_url, survivor_url]
        # Generous timeouts: 16 Docker sandboxes start at once on two cores (this tests sessions, not speed).
        envs = [gym.make("PDB-Demo-v0", remote=urls[i % 2 :] + urls[: i % 2], token=token, pdb_timeout=60,
                         test_timeout=30) for i in range(CLIENTS)]  # fmt: skip
        started = threading.Barrier(CLIENTS + 1)
        killed = threading.Event()

        def client(i: int) -> dict:
            env = envs[i]
            outcome = {"first": None, "lost": None, "resolved": False, "moved_to": None}
            try:
                env.reset(options={"task_id": "binary_search"})
                outcome["first"] = env.unwrapped.url
                assert "def " in env.step("view solution.py")[0]
            except BaseException:
                started.abort()  # the others stop waiting: this client's error is the test's
                raise
            started.wait(timeout=300)
            killed.wait(timeout=300)
            try:
                env.step("view solution.py")
            except RemoteEnvError as exc:
                outcome["lost"] = str(exc)
                env.reset(options={"task_id": "binary_search"})  # starts over on the other replica
            outcome["moved_to"] = env.unwrapped.url
            fix = "rewrite solution.py\n" + env.unwrapped.task.gold_files["solution.py"]
            env.step(fix)
            _, reward, terminated, _, info = env.step("eval")
            outcome["resolved"] = reward == 1.0 and terminated and info["resolved"]
            return outcome

        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(client, i) for i in range(CLIENTS)]
            try:
                started.wait(timeout=300)
            except threading.BrokenBarrierError as broken:
                errors = [f.exception(timeout=300) for f in futures]
                first = next((e for e in errors if e and not isinstance(e, threading.BrokenBarrierError)), None)
                raise (first or AssertionError("the clients did not all start in time")) from broken
            on_victim = _sandboxes(docker_client, {victim})
            assert len(on_victim) == CLIENTS // 2 and len(_sandboxes(docker_client, {survivor})) == CLIENTS // 2
            docker_client.api.kill(_container_of(docker_client, victim))  # SIGKILL: no cleanup
            killed.set()
            outcomes = [f.result(timeout=300) for f in futures]
        for env in envs:
            env.close()

        lost = [o for o in outcomes if o["lost"]]
        assert len(lost) == CLIENTS // 2 and all(o["first"] == victim_url for o in lost)
        assert all("was lost during step" in o["lost"] and "on another server" in o["lost"] for o in lost)
        assert all(o["moved_to"] == survivor_url for o in lost)
        assert all(o["resolved"] for o in outcomes), outcomes
        # The dead replica's sandboxes are removed (by the survivor, or by its successor at start).
        _wait(lambda: not _sandboxes(docker_client, {victim}), 120, "the dead replica's sandboxes to go")
    finally:
        subprocess.run(["docker", "stack", "rm", stack], env=deploy_env, capture_output=True, timeout=120)
        _wait(lambda: not _containers(docker_client, f"com.docker.stack.namespace={stack}"), 180,
              "the stack's containers to go")  # fmt: skip
    # No sandbox of any replica of the stack is left (REPLICA_LABEL is only on a served replica's sandboxes).
    _wait(lambda: not [c for c in _containers(docker_client, REPLICA_LABEL) if c["Created"] >= begun - 5], 60,
          "no sandbox left behind")  # fmt: skip


def _container_of(client, task_id: str) -> str:
    found = _containers(client, f"com.docker.swarm.task.id={task_id}", all=False)
    assert found, f"no container for task {task_id}"
    return found[0]["Id"]


def test_a_replica_removes_its_predecessors_sandboxes_at_start():
    """Outside Swarm (a StatefulSet's pod) a replica judges only its own name: at its start, what is left is stale."""
    require(docker_problem(), "docker")
    import docker

    from gym_pdb.serve.replica import reap_dead_replicas

    client = docker.from_env()
    me, other = f"pod-{secrets.token_hex(4)}", f"pod-{secrets.token_hex(4)}"
    made = [client.containers.run(os.environ.get("GYM_PDB_IMAGE", "gym-pdb-sandbox:latest"), "sleep 300",
                                  detach=True, network_mode="none", labels={REPLICA_LABEL: owner})
            for owner in (me, other)]  # fmt: skip
    try:
        assert reap_dead_replicas(client, me) == []  # while running: its own are live sessions
        removed = reap_dead_replicas(client, me, at_start=True)
        assert removed == [made[0].name]
        assert [c["Id"] for c in _sandboxes(client, {me, other})] == [made[1].id]  # another pod's: not judged
    finally:
        for c in made:
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(c.id, force=True, v=True)
        client.close()
