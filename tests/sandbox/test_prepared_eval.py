"""The prepared eval: each eval forks a pytest session that the zygote's helper holds before collection.

It must run as a fresh ``python -m pytest`` would, keep concurrent runs apart,
stay out of the task's reach, and give way to plain forks when it is gone.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time

import pytest

from gym_pdb.sandbox import make_sandbox
from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.sandbox.support import eval_command, eval_run_args
from gym_pdb.sandbox.support.records import KEY_BYTES, RecordReader
from gym_pdb.verdict.result import EvalResult
from gym_pdb.verdict.run import judge
from tests.conftest import sandbox_pid, zygote_pid

IS_ROOT = os.geteuid() == 0

STATE_TEST = b'''
import faulthandler, json, os, sys


def test_state():
    with open("state.json", "w") as f:
        json.dump({
            "path": sys.path, "argv0": os.path.basename(sys.argv[0]), "env": dict(os.environ), "cwd": os.getcwd(),
            "ids": [os.getuid(), os.getgid(), os.getgroups()], "session_leader": os.getsid(0) == os.getpid(),
            "faulthandler": faulthandler.is_enabled(), "stdin": os.read(0, 10).decode(),
            "ppid": os.getppid(),
        }, f)
'''

FIXTURES_TEST = b'''
import logging, os, sys, warnings

import pytest


def test_capsys(capsys):
    print("to capsys")
    assert capsys.readouterr().out == "to capsys\\n"


def test_fixtures(capfd, tmp_path, monkeypatch, caplog):
    os.write(1, b"to fd 1\\n")
    assert capfd.readouterr().out == "to fd 1\\n"
    (tmp_path / "f").write_text("x")
    assert (tmp_path / "f").read_text() == "x"
    monkeypatch.setenv("GYM_PDB_X", "1")
    logging.getLogger("t").warning("logged")
    assert "logged" in caplog.text
    with pytest.warns(UserWarning):
        warnings.warn("w", UserWarning)


def test_fails_with_output():
    print("printed before the failure")
    sys.stderr.write("to stderr\\n")
    logging.getLogger("t").error("an error logged")
    assert [1, 2] == [1, 3]


@pytest.mark.parametrize("n", [1, 0])
def test_param(n):
    assert n


def test_skip():
    pytest.skip("not today")
'''


def run_eval(sb, files: list[str], timeout: float = 5, trace: str | None = None) -> EvalResult:
    """An eval of ``files`` (with ``trace``: a trace run, whose trace records go in ``result.traces``)."""
    key = secrets.token_bytes(KEY_BYTES)
    args, env = eval_command(sb.info.support_dir, sb.info.workdir)
    run = sb.run([sb.info.python, *args, *eval_run_args(timeout, files, trace)], timeout=60, env=env, records_key=key)
    reader = RecordReader(key)
    reader.feed(run.records)
    reader.close(cut=run.timed_out)
    assert not reader.problems, reader.problems
    result = judge(reader.records, None)
    result.output = run.text
    result.traces = [r for r in reader.records if r.get("e") == "trace"]  # type: ignore[attr-defined]
    return result


def outcomes(sb, result: EvalResult) -> list[tuple[str, str, str]]:
    return [(t.nodeid, t.outcome, t.details.replace(sb.info.workdir, "WORKSPACE")) for t in result.tests]


def zygote_children(sb: LocalSandbox) -> list[int]:
    pid = zygote_pid(sb)
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def sandbox():
    sb = LocalSandbox()
    sb.reset_workspace({"test_state.py": STATE_TEST, "test_fixtures.py": FIXTURES_TEST})
    assert sb.wait_warm(60)
    yield sb
    sb.close()


def state_of_one_run(sb) -> dict:
    result = run_eval(sb, ["test_state.py"])
    assert [t.outcome for t in result.tests] == ["passed"], result.output
    root = os.path.dirname(sb.info.workdir)  # the local sandbox's own folder
    state = json.loads(sb.read_file("state.json").decode().replace(root + "/", "SANDBOX/"))
    sb.remove_file("state.json")
    uid, gid, groups = state.pop("ids")
    assert gid == uid and (set(groups) <= {gid} or not IS_ROOT)  # docker exec adds the gid, the zygote does not
    return state


def test_an_eval_is_a_fork_of_the_prepared_session(sandbox):
    zygote = zygote_pid(sandbox)
    (prepared,) = zygote_children(sandbox)
    state = state_of_one_run(sandbox)
    assert state["ppid"] == sandbox_pid(prepared) and parent_of(prepared) == zygote
    assert state_of_one_run(sandbox)["ppid"] == sandbox_pid(prepared)  # it serves every eval


def test_a_trace_run_is_a_fork_of_the_prepared_session_too(sandbox):
    (prepared,) = zygote_children(sandbox)
    result = run_eval(sandbox, ["test_state.py"], trace="{}")
    assert [t.outcome for t in result.tests] == ["passed"], result.output
    state = json.loads(sandbox.read_file("state.json").decode())
    assert state["ppid"] == sandbox_pid(prepared)
    (trace,) = result.traces
    assert trace["target"] == "test_state.py::test_state" and trace["outcome"] == "passed"


def test_a_run_sees_what_a_fresh_pytest_sees(backend):
    states, results = [], []
    for warm in (True, False):
        with make_sandbox(backend, warm=warm) as sb:
            sb.reset_workspace({"test_state.py": STATE_TEST, "test_fixtures.py": FIXTURES_TEST})
            assert sb.wait_warm(60) == warm
            states.append(state_of_one_run(sb))
            results.append(outcomes(sb, run_eval(sb, ["test_fixtures.py"])))
    for state in states:
        del state["ppid"]
        state["env"].pop("PWD", None)  # docker's cold runs start under sh, which sets it
    assert states[0] == states[1]
    assert states[0]["faulthandler"] and states[0]["session_leader"] and states[0]["stdin"] == ""
    assert results[0] == results[1]
    by_name = {nodeid.split("::")[1]: (outcome, details) for nodeid, outcome, details in results[0]}
    names = ("test_capsys", "test_fixtures", "test_param[1]", "test_param[0]", "test_skip", "test_fails_with_output")
    assert [by_name[n][0] for n in names] == ["passed", "passed", "passed", "failed", "skipped", "failed"]
    details = by_name["test_fails_with_output"][1]
    assert "printed before the failure" in details and "to stderr" in details and "an error logged" in details


def test_the_summary_line_times_the_run_not_the_prepared_session(sandbox):
    time.sleep(1.5)
    output = run_eval(sandbox, ["test_state.py"]).output
    assert "1 passed in 0." in output, output


def test_concurrent_evals_keep_their_own_output(sandbox):
    for name in ("a", "b"):
        test = f"import time\n\ndef test_{name}():\n    for _ in range(5):\n        print('{name}' * 8)\n        time.sleep(0.05)\n    assert False\n"
        sandbox.write_file(f"test_{name}.py", test.encode())
    found: dict[str, EvalResult] = {}

    def run(name: str) -> None:
        found[name] = run_eval(sandbox, [f"test_{name}.py"])

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, other in (("a", "b"), ("b", "a")):
        (test,) = found[name].tests
        assert test.outcome == "failed" and test.details.count(name * 8) == 5 and other * 8 not in test.details


def test_a_test_past_its_time_is_stopped_and_the_others_run(sandbox):
    sandbox.write_file("test_loop.py", b"def test_loop():\n    while True:\n        pass\n\ndef test_ok():\n    pass\n")
    result = run_eval(sandbox, ["test_loop.py"], timeout=1)
    assert [(t.nodeid, t.outcome) for t in result.tests] == [("test_loop.py::test_loop", "failed"), ("test_loop.py::test_ok", "passed")]
    assert "ran for more than 1s" in result.tests[0].details


@pytest.mark.skipif(not IS_ROOT, reason="the prepared process is out of the task's reach only when it runs as root")
def test_task_code_cannot_touch_the_prepared_process(sandbox):
    (prepared,) = zygote_children(sandbox)
    sandbox.write_file("test_evil.py", b"import os, signal\n\ndef test_evil():\n    os.kill(os.getppid(), signal.SIGKILL)\n")
    result = run_eval(sandbox, ["test_evil.py"])
    assert "PermissionError" in result.tests[0].details
    sandbox.reset_workspace({"test_state.py": STATE_TEST})
    assert state_of_one_run(sandbox)["ppid"] == sandbox_pid(prepared)


def test_a_reset_kills_a_running_eval_and_the_next_one_is_prepared(sandbox):
    (prepared,) = zygote_children(sandbox)
    sandbox.write_file("test_sleep.py", b"import time\n\ndef test_sleep():\n    time.sleep(30)\n")
    started = time.monotonic()
    runner = threading.Thread(target=run_eval, args=(sandbox, ["test_sleep.py"]), kwargs={"timeout": 60})
    runner.start()
    time.sleep(1)
    sandbox.reset_workspace({"test_state.py": STATE_TEST})
    runner.join(20)
    assert not runner.is_alive() and time.monotonic() - started < 20
    assert state_of_one_run(sandbox)["ppid"] == sandbox_pid(prepared)


def test_without_the_prepared_process_evals_fork_from_the_zygote(sandbox):
    zygote = zygote_pid(sandbox)
    (prepared,) = zygote_children(sandbox)
    os.kill(prepared, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while prepared in zygote_children(sandbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state_of_one_run(sandbox)["ppid"] == sandbox_pid(zygote)
    result = run_eval(sandbox, ["test_fixtures.py"])
    assert {t.outcome for t in result.tests} == {"passed", "failed", "skipped"}
