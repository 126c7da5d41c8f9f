"""The `swe-pdb` profile's pdb runs untraced through ``c`` until the workspace's code runs: still a plain pdb.

Each case runs the same pdb calls twice in the real local sandbox, through
``support/lazy_pdb.py`` (the profile's launcher) and through a plain
``python -m pdb``, and the observations must be the same: the cases the
oracle's recording does not cover and the launcher could get wrong.
"""

from __future__ import annotations

from pathlib import Path

import _pytest.runner
import pytest

from gym_pdb.env import PDBEnv
from gym_pdb.profiles.swe_pdb import pdb as swe_pdb
from gym_pdb.profiles.swe_pdb.normalize import normalize

#: solution.py with a module-level line 23 (rewrite past the end appends, after a blank line), hit at import.
APPEND = {"name": "rewrite", "arguments": {"path": "solution.py", "start": 40, "new_code": "LIMIT = 3"}}
RUNNER = Path(_pytest.runner.__file__)
RUNTEST_LINE = next(i for i, line in enumerate(RUNNER.read_text().splitlines(), 1) if line.strip() == "item.runtest()")


@pytest.fixture
def env(release):
    env = PDBEnv(suite="Demo", sandbox="local", profile="swe-pdb")
    yield env
    env.close()


def plain_launch(ctx, words: list[str]) -> list[str]:
    """The argv of a plain ``python -m pdb`` run, as the profile spawned it before the launcher."""
    return [ctx.sandbox.info.python, *words[1:]] if words[:1] == ["python"] else words


def run(env: PDBEnv, calls: list, extra: dict[str, bytes] | None = None) -> list[str]:
    env.reset(options={"task_id": "inventory"})
    for name, data in (extra or {}).items():  # files beside the task's, as a workspace's own configuration
        env.sandbox.write_file(name, data)
    workdir = env.sandbox.info.workdir
    return [normalize(env.step(call)[0], workdir) for call in calls]


def both(env: PDBEnv, monkeypatch: pytest.MonkeyPatch, calls: list, extra: dict[str, bytes] | None = None) -> list[str]:
    """The observations of ``calls`` through the launcher, checked equal to a plain pdb's."""
    spawned: list[list[str]] = []
    real = swe_pdb.launch
    monkeypatch.setattr(swe_pdb, "launch", lambda ctx, words: spawned.append(real(ctx, words)) or spawned[-1])
    lazy = run(env, calls, extra)
    assert spawned and all(argv[1].endswith("/lazy_pdb.py") for argv in spawned)
    monkeypatch.setattr(swe_pdb, "launch", plain_launch)
    plain = run(env, calls, extra)
    for i, (ours, theirs) in enumerate(zip(lazy, plain, strict=True)):
        assert ours == theirs, (i, calls[i])
    return lazy


def test_module_level_breakpoints_are_hit_at_import(env, monkeypatch):
    obs = both(env, monkeypatch, [APPEND, "pdb start pytest test.py", "pdb b test.py:3", "pdb b solution.py:23",
                                  "pdb c", "pdb w", "pdb c", "pdb w", "pdb n", "pdb c"])  # fmt: skip
    assert "> <workdir>/test.py(3)<module>()" in obs[4]
    assert "> <workdir>/solution.py(23)<module>()" in obs[6]
    assert "<workdir>/test.py(3)<module>()\n-> from solution import Inventory" in obs[7]  # the import's frames between
    assert "_pytest/python.py" in obs[7] and "bdb.py" in obs[7]
    assert "1 failed, 2 passed" in obs[9] and "Pdb quit." not in obs[9]


def test_a_helper_hit_twice_then_stepping(env, monkeypatch):
    obs = both(env, monkeypatch, ["pdb start pytest test.py", "pdb b solution.py:8", "pdb c", "pdb w", "pdb p count",
                                  "pdb c", "pdb p count", "pdb b",
                                  "pdb n", "pdb s", "pdb r", "pdb u", "pdb n", "pdb n", "pdb c"])  # fmt: skip
    assert "> <workdir>/solution.py(8)add()" in obs[2]
    assert "<workdir>/test.py(8)test_add_and_remove_some()" in obs[3]
    assert obs[4] == "Pdb command output:\n3\n" and obs[6] == "Pdb command output:\n2\n"


def test_c_with_no_breakpoints_runs_to_the_end(env, monkeypatch):
    obs = both(env, monkeypatch, ["pdb start pytest test.py", "pdb c", "pdb p 6 * 7"])
    assert "1 failed, 2 passed" in obs[1] and "The program exited via sys.exit(). Exit status: 1" in obs[1]
    assert obs[2] == "Pdb command output:\n42\n"  # pdb restarted the program and stopped at its first line


def test_a_breakpoint_the_tests_never_reach_and_one_in_pytest(env, monkeypatch):
    calls = ["pdb start pytest test.py", "pdb b solution.py:16", "pdb c", "pdb start pytest test.py",
             f"pdb b {RUNNER}:{RUNTEST_LINE}", "pdb c", "pdb c", "pdb b solution.py:5", "pdb c", "pdb w"]  # fmt: skip
    obs = both(env, monkeypatch, calls)
    assert "1 failed, 2 passed" in obs[2] and "The program exited via sys.exit(). Exit status: 1" in obs[2]
    assert f"runner.py({RUNTEST_LINE})pytest_runtest_call()" in obs[5]
    assert "> <workdir>/solution.py(5)__init__()" in obs[8]


def test_a_breakpoint_set_after_a_stop_in_the_workspace(env, monkeypatch):
    obs = both(env, monkeypatch, ["pdb start pytest test.py", "pdb b test.py:3", "pdb c", "pdb b solution.py:18",
                                  "pdb c", "pdb cl", "pdb b solution.py:16", "pdb c"])  # fmt: skip
    assert "> <workdir>/test.py(3)<module>()" in obs[2]
    assert "> <workdir>/solution.py(18)remove()" in obs[4]


#: A workspace's own pytest configuration: an ini file, and a conftest whose autouse fixture needs a fixture it
#: gives one of pytest's plugin modules and one of its classes (the warm interpreter's memoized scan of those
#: must see the change: ``warmup.memoize_plugin_scans``).
OWN_CONFIG = {
    "pytest.ini": b"[pytest]\naddopts = -rA\n",
    "conftest.py": b"""import _pytest.terminal
import _pytest.tmpdir
import pytest


def add():
    @pytest.fixture
    def added_to_tmpdir():
        return "from tmpdir"

    @pytest.fixture
    def added_to_reporter(self):
        return type(self).__name__

    _pytest.tmpdir.added_to_tmpdir = added_to_tmpdir
    _pytest.terminal.TerminalReporter.added_to_reporter = added_to_reporter


add()


@pytest.fixture(autouse=True)
def shown(added_to_tmpdir, added_to_reporter):
    print("conftest:", added_to_tmpdir, added_to_reporter)
""",
}


def test_a_workspace_with_its_own_pytest_ini_and_conftest(env, monkeypatch):
    obs = both(env, monkeypatch, ["pdb start pytest test.py", "pdb b solution.py:8", "pdb c", "pdb w", "pdb c",
                                  "pdb cl", "pdb c"], OWN_CONFIG)  # fmt: skip
    assert "> <workdir>/solution.py(8)add()" in obs[2] and "conftest: from tmpdir TerminalReporter" in obs[2]
    assert "<workdir>/conftest.py" not in obs[3] and "<workdir>/test.py(8)test_add_and_remove_some()" in obs[3]
    assert "1 failed, 2 passed" in obs[6] and "PASSED test.py::test_add_and_remove_some" in obs[6]
