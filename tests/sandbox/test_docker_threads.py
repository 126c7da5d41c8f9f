"""The Docker sandbox started from several threads at once (the swe-pdb profile's eval starts two runs)."""

from __future__ import annotations

import threading

import pytest

from gym_pdb.sandbox.base import Limits
from tests.conftest import require_backend


@pytest.fixture(scope="module")
def sb():
    require_backend("docker")
    from gym_pdb.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(limits=Limits(memory_bytes=512 * 1024**2, processes=64))
    sandbox.reset_workspace({"prog.py": b"print('hi')\n"})
    yield sandbox
    sandbox.close()


def test_threads_asking_the_warm_interpreter_at_once_do_not_collide(sb):
    """Each asks whether the zygote is up, which reads its stream: a poller that serves one caller at a time."""
    assert sb.wait_warm(60), "the zygote did not come up"
    warm = sb._container().warm
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(300):
                assert warm.ready()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    runs: list[str] = []
    workers = [threading.Thread(target=lambda: runs.append(sb.run(["python3", "prog.py"], timeout=30).text)) for _ in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert [text.strip() for text in runs] == ["hi"] * 4
