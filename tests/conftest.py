"""Shared fixtures: suite data from ../shared/data, and the sandbox backends.

Tool and env tests run on every backend. The docker backend needs a running
dockerd and the sandbox image: without them its tests skip on a workstation,
and fail in CI (``CI`` set), where .ci/run provides both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gym_pdb.sandbox.bwrap import children
from gym_pdb.sandbox.local_housekeeping import uid_processes

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "swe-pdb"
if "GYM_PDB_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["GYM_PDB_DATA"] = str(SHARED_DATA)

BACKENDS = ["local", "docker"]


def docker_problem() -> str | None:
    """Why the docker backend cannot run here, or None."""
    try:
        import docker
    except ImportError:
        return "the docker package is not installed (pip install gym-pdb[docker])"
    try:
        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable dockerd
        return f"dockerd is not reachable: {exc}"
    from gym_pdb.sandbox.docker import default_image

    try:
        client.images.get(default_image())
    except Exception:  # noqa: BLE001
        return f"the sandbox image {default_image()} is missing (gym-pdb build-image --offline)"
    finally:
        client.close()
    return None


def require(problem: str | None, what: str) -> None:
    """Skip a test whose ``what`` cannot run here (``problem`` says why); in CI (``CI`` set), where the
    project's scripts install and start everything the tests need, fail instead."""
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{what} required in CI: {problem}")
        pytest.skip(problem)


def require_backend(kind: str) -> None:
    if kind == "docker":
        require(docker_problem(), "docker backend")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    require_backend(request.param)
    return request.param


@pytest.fixture(scope="module")
def envs():
    """Envs a test module makes once (keyed as it likes) and reuses across its tests; closed at its end."""
    made: dict = {}
    yield made
    for env in made.values():
        env.close()


@pytest.fixture
def data_dir() -> Path:
    path = Path(os.environ.get("GYM_PDB_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.fail(f"suite data not found at {path}: set GYM_PDB_DATA")
    return path


def own_processes(uid: int | None, settle: float = 2.0) -> list[int]:
    """Pids of live processes running as ``uid``, once those already SIGKILLed had ``settle`` seconds to go."""
    import time

    deadline = time.monotonic() + settle
    while True:
        pids = [] if uid is None else uid_processes(uid)
        if not pids or time.monotonic() >= deadline:
            return pids
        time.sleep(0.01)


def zygote_pid(sb) -> int:
    """The host's pid of a local sandbox's warm interpreter (under bwrap, below bwrap and its init)."""
    pid = sb._warm._popen.pid
    while open(f"/proc/{pid}/comm").read().strip() == "bwrap":
        pid = children(pid)[0]
    return pid


def sandbox_pid(pid: int) -> int:
    """The host's ``pid`` as the processes of its own PID namespace see it."""
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("NSpid:")).split()[-1])


@pytest.fixture(scope="session")
def repo_tasks():
    """The example repository tasks (``gym_pdb.tasks.repo_examples``), their images built where missing.

    Built once per content and kept: a fresh machine pays about 10 s and two sdists from PyPI.
    """
    require_backend("docker")
    from gym_pdb.tasks.repo_examples import example_tasks

    return example_tasks(build=True)
