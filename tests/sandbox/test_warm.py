"""The warm interpreter: ``python SCRIPT`` forked from a zygote behaves as a fresh one.

Mostly the local sandbox; the Docker sandbox's own cases are in test_docker.py.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from gym_pdb.sandbox.base import Limits
from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.sandbox.warm import ForkedChild
from tests.conftest import own_processes, sandbox_pid, zygote_pid

IS_ROOT = os.geteuid() == 0

REPORT = b"""
import json, os, resource, sys, tempfile
print(json.dumps({
    "argv": sys.argv, "path0": sys.path[0], "cwd": os.getcwd(), "uid": os.getuid(), "gid": os.getgid(),
    "groups": os.getgroups(), "sid": os.getsid(0), "pid": os.getpid(), "env": dict(os.environ),
    "tmp": tempfile.gettempdir(), "nproc": resource.getrlimit(resource.RLIMIT_NPROC),
    "cpu": resource.getrlimit(resource.RLIMIT_CPU), "fds": sorted(map(int, os.listdir("/proc/self/fd"))),
    "net": open("/proc/net/dev").read().count(":"), "main": __name__, "file": __file__,
}))
"""


def warm_ready(sb) -> None:
    assert sb.wait_warm(60)


@pytest.fixture
def sandbox():
    sb = LocalSandbox(limits=Limits(memory_bytes=1024**3, processes=64, cpu_seconds=50))
    sb.reset_workspace({"report.py": REPORT, "pkg/__init__.py": b"", "pkg/__main__.py": REPORT})
    warm_ready(sb)
    yield sb
    sb.close()


def run_json(sb, argv, **kwargs):
    import json

    result = sb.run(argv, timeout=20, **kwargs)
    assert result.exit_code == 0, result.text
    return json.loads(result.text)


def test_python_script_is_forked_and_sees_what_a_fresh_interpreter_sees(sandbox):
    child, out, _ = sandbox._start(["python", "report.py"], None, interactive=False)
    assert isinstance(child, ForkedChild)
    os.close(out)
    child.wait(10)
    report = run_json(sandbox, ["python", "report.py", "a", "b"], env={"EXTRA": "1"})
    assert report["argv"] == ["report.py", "a", "b"]
    assert report["path0"] == sandbox.workdir and report["cwd"] == sandbox.workdir
    assert report["main"] == "__main__" and report["file"].endswith("report.py")
    assert report["env"]["EXTRA"] == "1" and report["env"]["TMPDIR"] == sandbox.tmpdir
    assert "GYM_PDB_DATA" not in report["env"]
    assert report["tmp"] == sandbox.tmpdir
    assert report["sid"] == report["pid"]  # its own session: killing the group kills what it starts
    assert report["fds"] == [0, 1, 2, 3]  # 3: the listing itself; nothing of the zygote's leaks in
    assert report["cpu"] == [50, 50] and report["nproc"] == [64, 64]
    assert report["net"] <= 3  # header lines and lo only
    if IS_ROOT:
        assert report["uid"] == sandbox.uid == report["gid"] and report["groups"] == []


def test_python_m_module_and_pythonpath(sandbox):
    report = run_json(sandbox, ["python", "-m", "pkg", "x"], env={"PYTHONPATH": "/opt/nowhere"})
    assert report["argv"][0].endswith("pkg/__main__.py") and report["argv"][1:] == ["x"]
    assert report["path0"] == sandbox.workdir
    assert report["main"] == "__main__"


def test_exit_codes_and_tracebacks_as_the_interpreter_gives_them(sandbox):
    cases = {
        b"raise SystemExit(3)\n": (3, ""),
        b"import sys; sys.exit('bye')\n": (1, "bye"),
        b"1 / 0\n": (1, "ZeroDivisionError"),
        b"import os; os._exit(7)\n": (7, ""),
        b"import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n": (-signal.SIGKILL, ""),
        b"import atexit; atexit.register(print, 'at exit')\n": (0, "at exit"),
        b"import threading, time; threading.Thread(target=lambda: (time.sleep(0.2), print('joined'))).start()\n": (
            0,
            "joined",
        ),
    }
    for source, (code, text) in cases.items():
        sandbox.write_file("case.py", source)
        result = sandbox.run(["python", "case.py"], timeout=20)
        assert result.exit_code == code, (source, result)
        assert text in result.text, (source, result.text)


def test_random_state_is_not_shared_between_runs(sandbox):
    sandbox.write_file("rand.py", b"import random; print(random.random())\n")
    values = {sandbox.run(["python", "rand.py"], timeout=20).text for _ in range(3)}
    assert len(values) == 3
    pytest.importorskip("numpy")
    sandbox.write_file("nprand.py", b"import sys; assert 'numpy' in sys.modules; import numpy; print(numpy.random.rand())\n")
    values = {sandbox.run(["python", "nprand.py"], timeout=20).text for _ in range(3)}
    assert len(values) == 3, values


def test_interactive_process_and_timeout(sandbox):
    sandbox.write_file("echo.py", b"import sys\nfor line in sys.stdin:\n    print('got', line.strip(), end='>')\n")
    proc = sandbox.spawn(["python", "echo.py"])
    proc.write(b"one\n")
    assert proc.read_until(b">", 10, 1000) == (b"got one", True)
    proc.kill()
    assert not proc.alive() and proc.exit_code == -signal.SIGKILL
    sandbox.write_file("spin.py", b"import subprocess, time\nsubprocess.Popen(['sleep', '300'])\nwhile True: pass\n")
    start = time.monotonic()
    result = sandbox.run(["python", "spin.py"], timeout=1)
    assert result.timed_out and time.monotonic() - start < 5
    if IS_ROOT:
        time.sleep(0.2)
        assert [p for p in own_processes(sandbox.uid)] == []


def test_limits_hold_in_forked_children(sandbox):
    sandbox.write_file("hog.py", b"x = bytearray(2 * 1024**3)\n")
    assert sandbox.run(["python", "hog.py"], timeout=20).exit_code != 0
    sandbox.write_file(
        "bomb.py",
        b"import os\nn = 0\ntry:\n    while n < 500:\n        if os.fork() == 0:\n            import time; time.sleep(30); os._exit(0)\n"
        b"        n += 1\nexcept OSError:\n    print('stopped at', n)\n",
    )
    result = sandbox.run(["python", "bomb.py"], timeout=20)
    if IS_ROOT:
        assert "stopped at" in result.text and int(result.text.split()[-1]) < 64


@pytest.mark.skipif(not IS_ROOT, reason="the zygote is out of the task's reach only when it runs as root")
def test_task_code_cannot_touch_the_zygote_and_it_outlives_resets(sandbox):
    zygote = sandbox_pid(zygote_pid(sandbox))
    sandbox.write_file("evil.py", f"import os, signal\nos.kill({zygote}, signal.SIGKILL)\n".encode())
    result = sandbox.run(["python", "evil.py"], timeout=20)
    assert "PermissionError" in result.text
    sandbox.reset_workspace({"report.py": REPORT})
    assert sandbox._warm._popen.poll() is None
    child, out, _ = sandbox._start(["python", "report.py"], None, interactive=False)
    assert isinstance(child, ForkedChild)
    os.close(out)
    child.wait(10)


def test_a_dead_zygote_is_replaced_and_runs_start_cold_meanwhile(sandbox):
    old = sandbox._warm
    os.kill(old._popen.pid, signal.SIGKILL)
    old._popen.wait()
    assert run_json(sandbox, ["python", "report.py"])["main"] == "__main__"
    assert sandbox._warm is not old
    warm_ready(sandbox)
    child, out, _ = sandbox._start(["python", "report.py"], None, interactive=False)
    assert isinstance(child, ForkedChild)
    os.close(out)
    child.wait(10)


def test_close_stops_the_zygote():
    sb = LocalSandbox()
    warm_ready(sb)
    zygote = sb._warm._popen
    sb.close()
    assert zygote.poll() is not None


def test_warm_and_cold_eval_agree(backend):
    from gym_pdb.sandbox import make_sandbox
    from gym_pdb.tasks.suites import load_demo
    from gym_pdb.verdict.run import run_tests

    for task in load_demo().values():
        outcomes = []
        for warm in (True, False):
            with make_sandbox(backend, warm=warm) as sb:
                sb.reset_workspace({p: t.encode() for p, t in task.files.items()}, readonly=task.test_files)
                assert sb.wait_warm(60) == warm
                result = run_tests(sb, task)
            outcomes.append([(t.nodeid, t.outcome, t.details) for t in result.tests])
        assert outcomes[0] == outcomes[1] and outcomes[0]


PYTEST_TWICE = b"""
import sys
import _pytest.config as pytest_config
import pytest

slot = dict(zip(pytest_config.get_config.__code__.co_freevars, pytest_config.get_config.__closure__))["prebuilt"]
print("prebuilt", len(slot.cell_contents))
blocked = [a for n in ("cacheprovider", "junitxml", "pastebin", "stepwise", "setuponly", "setupplan") for a in ("-p", "no:" + n)]
first = pytest.main(["-q", *blocked, "test_a.py"])
print("prebuilt", len(slot.cell_contents))
second = pytest.main(["-q", *blocked, "test_a.py"])
third = pytest.main(["-q", "-p", "no:cacheprovider", "--junitxml", "out.xml", "test_a.py"])
print("codes", int(first), int(second), int(third))
"""


def test_the_first_pytest_run_of_a_child_takes_the_prebuilt_plugins(sandbox):
    sandbox.write_file("twice.py", PYTEST_TWICE)
    sandbox.write_file("test_a.py", b"def test_a():\n    pass\n\ndef test_b():\n    assert False\n")
    result = sandbox.run(["python", "twice.py"], timeout=60)
    lines = [line for line in result.text.splitlines() if line.startswith(("prebuilt", "codes"))]
    # the first run with the sandbox's blocked plugins uses one of the two (the other: no plugin blocked), later
    # ones build their own (one with junitxml)
    assert lines == ["prebuilt 2", "prebuilt 0", "codes 1 1 1"], result.text
    assert b"testsuite" in sandbox.read_file("out.xml")


def test_a_plain_pytest_run_takes_the_prebuilt_config_without_blocked_plugins(sandbox):
    """The swe-pdb profile's pdb and plain eval run ``pytest -sq test.py``: the second prebuilt config is theirs."""
    plain = PYTEST_TWICE.replace(b"*blocked, ", b"").replace(b"third = pytest.main", b"third = 0 and pytest.main")
    sandbox.write_file("twice.py", plain)
    sandbox.write_file("test_a.py", b"def test_a():\n    pass\n\ndef test_b():\n    assert False\n")
    result = sandbox.run(["python", "twice.py"], timeout=60)
    lines = [line for line in result.text.splitlines() if line.startswith(("prebuilt", "codes"))]
    assert lines == ["prebuilt 2", "prebuilt 0", "codes 1 1 0"], result.text
    runs = result.text.split("prebuilt 0")
    assert runs[0].count("1 failed, 1 passed") == 1 and runs[1].count("1 failed, 1 passed") == 1


OPTIONS_LATE = b"""
import pytest
from _pytest.config.argparsing import Parser

old = int(pytest.__version__.split(".")[0]) < 8
print("kept", old, old and Parser._getparser.__module__ == "warmup")
if old:
    parser = Parser()
    parser.addoption("--x")
    first = parser._getparser()
    print("same", first is parser._getparser())
    parser.addoption("--y")
    print("rebuilt", parser._getparser() is not first, parser._getparser().parse_known_args(["--y", "1"])[0].y)
codes = [pytest.main(["-q", "-s", "-p", "no:cacheprovider", f"--level={n}", "test_opt.py"]) for n in (3, 4)]
print("codes", *map(int, codes))
"""


def test_options_a_conftest_adds_after_the_first_parse_are_read(backend):
    """pytest < 8 (Debian's, in the offline image) gets a kept argparse parser: one that new options rebuild."""
    from gym_pdb.sandbox import make_sandbox

    with make_sandbox(backend) as sb:
        sb.reset_workspace({
            "late.py": OPTIONS_LATE,
            "conftest.py": b"def pytest_addoption(parser):\n    parser.addoption('--level', type=int, default=0)\n",
            "test_opt.py": b"def test_level(request):\n    print('LEVEL', request.config.getoption('level'))\n",
        })  # fmt: skip
        assert sb.wait_warm(60)
        result = sb.run([sb.info.python, "late.py"], timeout=60)
    lines = [line for line in result.text.splitlines() if line.startswith(("kept", "same", "rebuilt", "codes", "LEVEL"))]
    if lines[0] == "kept True True":  # pytest < 8, with the kept parser
        assert lines[1:] == ["same True", "rebuilt True 1", "LEVEL 3", "LEVEL 4", "codes 0 0"], result.text
    else:
        assert lines == ["kept False False", "LEVEL 3", "LEVEL 4", "codes 0 0"], result.text


def test_support_scripts_run_from_their_compiled_code_until_they_change(tmp_path):
    import subprocess
    import sys

    from gym_pdb.sandbox.support import support_files

    (tmp_path / "pyrun.py").write_bytes(support_files()["pyrun.py"])
    (tmp_path / "hello.py").write_text("import sys\nprint('one', __name__, __file__ == sys.argv[0], sys.argv[1:])\n")
    check = f"""
import os, sys
sys.path.insert(0, {str(tmp_path)!r})
import pyrun
compiled = pyrun.compile_support_scripts({str(tmp_path)!r})
script = os.path.join({str(tmp_path)!r}, "hello.py")
assert list(compiled) == [script]
for change in (False, True):
    if change:
        with open(script, "a") as f:
            f.write("print('two')\\n")
    pid = os.fork()
    if pid == 0:
        os._exit(pyrun.run_program([script, "x"], sys.path[1:], compiled))
    os.waitpid(pid, 0)
"""
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["one __main__ True ['x']", "one __main__ True ['x']", "two"], out.stderr
    assert list((tmp_path / "__pycache__").glob("hello.*.pyc"))


FIXTURES_TWICE = b"""
import sys
import _pytest.fixtures as fixtures
import pytest

patched = fixtures.FixtureManager.parsefactories
cells = dict(zip(patched.__code__.co_freevars, patched.__closure__ or ()))
print("memoized", "modules" in cells and len(cells["modules"].cell_contents) > 20 and len(cells["empty"].cell_contents) > 20)
first = pytest.main(["-p", "no:cacheprovider", "--fixtures", "-v", "test_a.py"])
print("@@@")
second = pytest.main(["-p", "no:cacheprovider", "-q", "test_a.py"])
print("@@@")
if "modules" in cells:
    fixtures.FixtureManager.parsefactories = cells["original"].cell_contents
third = pytest.main(["-p", "no:cacheprovider", "--fixtures", "-v", "test_a.py"])
print("@@@")
fourth = pytest.main(["-p", "no:cacheprovider", "-q", "test_a.py"])
print("@@@ codes", int(first), int(second), int(third), int(fourth))
"""

#: A conftest that gives one of pytest's own plugin modules and a plugin's class a fixture: they are scanned in full.
CONFTEST_ADDS_A_FIXTURE = b"""
import _pytest.terminal
import _pytest.tmpdir
import pytest


def add():
    @pytest.fixture
    def added_to_a_plugin():
        return 5

    @pytest.fixture
    def added_to_reporter(self):
        return type(self).__name__

    _pytest.tmpdir.added_to_tmpdir = added_to_a_plugin
    _pytest.terminal.TerminalReporter.added_to_reporter = added_to_reporter


add()
"""


def test_pytests_plugin_modules_are_scanned_for_fixtures_once_with_the_same_result(sandbox):
    """``warmup.memoize_plugin_scans``: the fixtures, their listing and a run's output as with pytest's own scan."""
    sandbox.write_file("twice.py", FIXTURES_TWICE)
    sandbox.write_file(
        "test_a.py",
        b"def test_a(tmp_path, request):\n    pass\n\ndef test_b(added_to_tmpdir):\n    assert added_to_tmpdir == 4\n\n"
        b"def test_c(added_to_reporter):\n    assert added_to_reporter == 'reporter'\n",
    )
    for conftest in (None, CONFTEST_ADDS_A_FIXTURE):
        if conftest is not None:
            sandbox.write_file("conftest.py", conftest)
        result = sandbox.run(["python", "twice.py"], timeout=60, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
        text = re.sub(r"in \d+\.\d+s", "in Ns", result.text)
        first, second, third, fourth, codes = text.split("@@@")
        assert "memoized True" in first, result.text
        assert first.split("memoized True", 1)[1].strip() == third.strip() and "tmp_path" in third, result.text
        assert second.strip() == fourth.strip(), result.text
        if conftest is None:
            assert "fixture 'added_to_tmpdir' not found" in second and "fixture 'added_to_reporter' not found" in second
            assert codes.strip() == "codes 0 1 0 1", result.text
        else:
            assert "assert 5 == 4" in second and "assert 'TerminalReporter' == 'reporter'" in second, result.text
            assert "added_to_tmpdir" in first and "added_to_reporter" in first and codes.strip() == "codes 0 1 0 1", result.text
