"""The tracer's sys.monitoring path (3.12+) against its settrace path, on the programs of trace_scenarios.py.

The 3.12+ interpreter: ``GYM_PDB_PYTHON312`` (any 3.12+ python, for a
developer who has one), else /opt/gym-pdb/python3.12/bin/python3.12, the
Pyodide build that scripts/ci-python312.sh installs. Without one these tests
skip, in CI they fail (``require``). The scenarios run once under it with both
mechanisms, and here (3.11, settrace) in this process, in one workspace.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gym_pdb.sandbox.support import trace_calls, trace_monitor
from tests.conftest import require
from tests.sandbox import trace_scenarios

SUPPORT = Path(trace_calls.__file__).parent
SCRIPT = Path(trace_scenarios.__file__)
PYTHON312 = os.environ.get("GYM_PDB_PYTHON312") or "/opt/gym-pdb/python3.12/bin/python3.12"
ADDRESS = re.compile(r"<[^<>\"]*0x[0-9a-fA-F]+>")  # a default repr: its address (and width) differs by process


def normal(records: dict[str, Any]) -> dict[str, Any]:
    return json.loads(ADDRESS.sub("<object>", json.dumps(records)))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("trace_monitoring")


@pytest.fixture(scope="module")
def on_312(workspace) -> dict[str, Any]:
    problem = None if os.access(PYTHON312, os.X_OK) else f"no Python 3.12+ at {PYTHON312} (scripts/ci-python312.sh)"
    require(problem, "a Python 3.12+ interpreter")
    done = subprocess.run(
        [PYTHON312, str(SCRIPT), str(SUPPORT), str(workspace), "settrace,monitoring"],
        capture_output=True, text=True, timeout=300, cwd=str(workspace),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert tuple(out["python"]) >= (3, 12)
    return out


def test_the_312_interpreter_used_each_mechanism_it_was_asked_for(on_312):
    assert {name: run["used"] for name, run in on_312["runs"].items()} == {
        "settrace": ["settrace"], "monitoring": ["monitoring"],
    }  # fmt: skip


@pytest.mark.parametrize("scenario", list(trace_scenarios.SCENARIOS))
def test_monitoring_gives_settrace_s_trace_on_312(on_312, scenario):
    runs = on_312["runs"]
    monitored = normal(runs["monitoring"]["records"][scenario])
    assert monitored == normal(runs["settrace"]["records"][scenario])
    assert monitored["entries"] or monitored["hidden"]  # each scenario shows something


@pytest.mark.parametrize("scenario", list(trace_scenarios.SCENARIOS))
def test_monitoring_on_312_gives_settrace_s_trace_on_this_python(on_312, workspace, scenario):
    here = trace_scenarios.run_all(trace_calls, str(workspace), "settrace")
    assert here["used"] == ["settrace"]
    assert normal(on_312["runs"]["monitoring"]["records"][scenario]) == normal(here["records"][scenario])


def test_a_folded_recursion_is_folded_the_same(on_312):
    record = on_312["runs"]["monitoring"]["records"]["folded"]
    assert record["calls"] == 1973
    (fold,) = [e for e in record["entries"] if "fold" in e]
    assert fold["count"] == 1973 - 6 and [e["n"] for e in record["entries"] if "l" in e] == [1, 2, 3]


def test_a_traced_call_s_lines_after_a_folded_call_of_its_code_are_traced(on_312):
    (first, fold, *_) = on_312["runs"]["monitoring"]["records"]["resumed"]["entries"]
    assert first["l"] == "54-57" and first["b"] == "if@54 T1" and fold["fold"] == "prog.py:walk"


@pytest.mark.skipif(trace_monitor.available(), reason="this interpreter has sys.monitoring")
def test_asking_for_monitoring_without_it_traces_with_settrace(workspace):
    out = trace_scenarios.run_all(trace_calls, str(workspace), "monitoring")
    assert out["used"] == ["settrace"] and sys.version_info < (3, 12)
    assert out["records"]["total"]["entries"][0]["l"] == "9-13"


def test_the_guard_lets_the_monitoring_callbacks_take_frames_and_still_refuses_the_workspace(tmp_path):
    from gym_pdb.sandbox.support import guard

    rules = guard.Guard(str(tmp_path), ["test.py"], lambda text: None)
    space: dict[str, Any] = {"rules": rules}
    ask = "    return rules.frame('sys._getframe', ())\n"
    exec(compile("def callback():\n" + ask, trace_monitor.__file__, "exec"), space)  # as if in trace_monitor.py
    exec(compile("def program():\n    return callback()\n\ndef sneaky():\n" + ask, str(tmp_path / "solution.py"), "exec"), space)
    assert space["program"]() is None  # the program's call in which a monitoring callback takes its frame
    assert space["sneaky"]() == "sys._getframe"
