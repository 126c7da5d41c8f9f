"""``support/lazy_pdb.py``: ``python -m pdb`` whose ``c`` runs untraced until the workspace's code runs.

The swe-pdb profile's tests (tests/profiles/test_swe_pdb_lazy.py) check that
what the agent sees is a plain pdb's; these check that the ``c`` is untraced
where it may be, which only code outside the workspace can see: timeit's
setup (stdlib code) reads ``sys.gettrace()`` before the workspace's module
is imported, and hands it to the workspace's function, which holds the
breakpoint.
"""

from __future__ import annotations

import pytest

from gym_pdb.sandbox.base import Limits
from gym_pdb.sandbox.local import LocalSandbox

WS = b"def f(seen):\n    found = seen\n    return found\n"
PROMPT = b"(Pdb) "


@pytest.fixture
def sandbox():
    sb = LocalSandbox(limits=Limits(memory_bytes=1024**3, processes=64, cpu_seconds=50))
    sb.reset_workspace({"ws.py": WS})
    yield sb
    sb.close()


def session(sb: LocalSandbox, lazy: bool, commands: list[str]) -> list[str]:
    """pdb over ``timeit`` (its setup reads the trace function, its statement calls ws.f): each reply."""
    launcher = [f"{sb.info.support_dir}/lazy_pdb.py"] if lazy else ["-m", "pdb"]
    program = ["-m", "timeit", "-n", "1", "-r", "1", "-s", "import sys; t = sys.gettrace()", "import ws; ws.f(t)"]
    process = sb.spawn([sb.info.python, *launcher, *program])
    try:
        replies = [process.read_until(PROMPT, 30, 1 << 20)[0].decode()]
        for command in commands:
            process.write(command.encode() + b"\n")
            replies.append(process.read_until(PROMPT, 30, 1 << 20)[0].decode())
        return replies
    finally:
        process.kill()


@pytest.mark.parametrize("lazy", [True, False])
def test_c_runs_untraced_until_the_workspace_code_runs(sandbox, lazy):
    replies = session(sandbox, lazy, ["b ws.py:2", "c", "p seen is None", "w", "n", "c"])
    assert "timeit.py(3)<module>()" in replies[0]
    assert "ws.py(2)f()" in replies[2]
    assert replies[3].strip() == str(lazy)  # untraced before ws.py's import only through the launcher
    assert "<timeit-src>" in replies[4] and "ws.py(3)f()" in replies[5]
    assert "1 loop" in replies[6]


def test_a_breakpoint_outside_the_workspace_keeps_pdbs_tracing(sandbox):
    replies = session(sandbox, True, ["b timeit.main", "b ws.py:2", "c", "c", "p seen is None"])
    assert "main()" in replies[3] and "ws.py(2)f()" in replies[4] and replies[5].strip() == "False"
