"""The tracer of the trace tool (support/trace_calls.py), in this process on a module of a temporary workspace."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from gym_pdb.sandbox.support import trace_calls

PROGRAM = """
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def total(items):
    acc = 0
    for x in items:
        if x > 0:
            acc += x
    return acc


def boom(value):
    raise ValueError("bad %s\\nsecond line" % value)


class Box:
    def put(self, item):
        self.item = item
        return self
"""


@pytest.fixture
def program(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    spec = importlib.util.spec_from_file_location("prog_under_trace", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tmp_path, module


def traced(workspace, run, **settings):
    tracer = trace_calls.Tracer(str(workspace), trace_calls.read_spec(__import__("json").dumps(settings)))
    previous = sys.gettrace()
    tracer.start()
    try:
        run()
    finally:
        tracer.stop()
        sys.settrace(previous)
    return tracer.record("target", "passed")


def test_a_call_shows_arguments_lines_branches_changed_locals_and_result(program):
    workspace, prog = program
    record = traced(workspace, lambda: prog.total([1, -2, 3]))
    assert record["calls"] == 1
    (entry,) = record["entries"]
    assert entry["f"] == "prog.py:total" and entry["d"] == 1
    assert entry["a"] == [("items", "[1, -2, 3]")]
    assert entry["r"] == "4"
    assert entry["l"] == "9-13"
    assert entry["b"] == "for@10 x3; if@11 T2 F1"
    assert dict(entry["c"]) == {"acc": "4", "x": "3"}


def test_an_exception_is_shown_by_its_first_line(program):
    workspace, prog = program

    def run():
        with pytest.raises(ValueError):
            prog.boom(3)

    (entry,) = traced(workspace, run)["entries"]
    assert entry["x"] == "ValueError: bad 3" and "r" not in entry


def test_methods_are_named_by_their_class(program):
    workspace, prog = program
    (entry,) = traced(workspace, lambda: prog.Box().put(5))["entries"]
    assert entry["f"] == "prog.py:Box.put" and entry["a"][1] == ("item", "5")


def test_recursion_is_folded_with_its_first_and_last_calls_kept(program):
    workspace, prog = program
    record = traced(workspace, lambda: prog.fib(15), keep=3, max_depth=100)
    calls = record["entries"]
    assert record["calls"] == 1973
    full = [e for e in calls if "l" in e]
    assert [e["a"] for e in full] == [[("n", "15")], [("n", "14")], [("n", "13")]]
    (fold,) = [e for e in calls if "fold" in e]
    light = [e for e in calls if "fold" not in e and "l" not in e]
    assert fold["n"] == 4 and fold["count"] == 1973 - 3 - 3 and len(light) == 3
    assert [e["n"] for e in light] == [1971, 1972, 1973]
    assert [e["n"] for e in calls] == sorted(e["n"] for e in calls)


def test_depth_filter_and_call_limits_count_what_they_leave_out(program):
    workspace, prog = program
    record = traced(workspace, lambda: prog.fib(6), max_depth=2)
    assert record["hidden"]["deeper"] == 25 - 3
    record = traced(workspace, lambda: (prog.fib(3), prog.total([1])), filter="total")
    assert [e["f"] for e in record["entries"]] == ["prog.py:total"] and record["hidden"]["filtered"] == 5
    record = traced(workspace, lambda: [prog.total([i]) for i in range(5)], max_calls=1, keep=10)
    assert len(record["entries"]) == 1 and record["hidden"]["over"] == 4


def test_expand_traces_one_call_line_by_line(program):
    workspace, prog = program
    record = traced(workspace, lambda: (prog.total([5]), prog.total([1, 2])), expand=2)
    expanded = [e for e in record["entries"] if "steps" in e]
    assert [e["n"] for e in expanded] == [2]
    steps = expanded[0]["steps"]
    assert steps[0] == (9, [("acc", "0")])
    assert (10, [("x", "1")]) in steps and steps[-1][0] == 13


def test_values_are_cut_to_their_budget(program):
    workspace, prog = program
    (entry,) = traced(workspace, lambda: prog.Box().put("x" * 500), value_chars=40)["entries"]
    assert len(entry["a"][1][1]) <= 40 and "..." in entry["a"][1][1]


def test_code_outside_the_workspace_and_in_excluded_files_is_not_traced(program, tmp_path_factory):
    workspace, prog = program
    record = traced(workspace, lambda: sorted([3, 1, 2], key=lambda v: -v) and prog.total([1]))
    assert [e["f"] for e in record["entries"]] == ["prog.py:total"]  # the lambda is this test file's
    record = traced(workspace, lambda: prog.total([1]), exclude=["prog.py"])
    assert record["entries"] == [] and record["calls"] == 0


def test_ranges():
    assert trace_calls.ranges([5, 3, 4, 9, 12, 13, 12]) == "3-5, 9, 12-13"


def test_settings_are_clamped():
    spec = trace_calls.read_spec('{"max_calls": 100000, "max_depth": -4, "value_chars": "x"}')
    assert spec["max_calls"] == 500 and spec["max_depth"] == 1 and spec["value_chars"] == 80
