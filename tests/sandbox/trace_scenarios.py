"""The trace tool's tracer on fixed programs, as JSON: run by tests under another interpreter (stdlib only).

    python trace_scenarios.py SUPPORT_DIR WORKSPACE MECHANISM,...   # prints JSON: per mechanism, each scenario's record

Writes ``prog.py`` into WORKSPACE, imports the support folder's
``trace_calls``, and traces each scenario with each MECHANISM (``settrace``,
``monitoring``). tests/sandbox/test_trace_monitoring.py runs it under a
3.12+ interpreter and compares with the same scenarios traced in its own
process (3.11, settrace). Runs on 3.10+ with no third-party module, so that a
bare interpreter (a WebAssembly build included) can run it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any, Callable, Dict, List, Tuple

PROGRAM = '''
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


def careful(value):
    try:
        boom(value)
    except ValueError:
        value = -value
    return value


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def drain(n):
    seen = []
    for value in countdown(n):
        seen.append(value)
    return seen


class Box:
    def put(self, item):
        self.item = item
        return self


def main():
    Box().put(total([1, -2, 3]))
    careful(2)
    return drain(3), fib(6)


def walk(node, depth):
    if depth < 3:
        walk(node, depth + 1)
        node.append(depth)
    return node
'''

# name: (the call to trace, as Python on module ``prog``; the trace's settings)
SCENARIOS: Dict[str, Tuple[str, Dict[str, Any]]] = {
    "total": ("prog.total([1, -2, 3])", {}),
    "raised": ("prog.careful(3)", {}),
    "uncaught": ("prog.boom(3)", {}),
    "method": ("prog.Box().put(5)", {}),
    "generator": ("prog.drain(4)", {}),
    "folded": ("prog.fib(15)", {"keep": 3, "max_depth": 100}),
    "deeper": ("prog.fib(6)", {"max_depth": 2}),
    "filtered": ("(prog.fib(3), prog.total([1]))", {"filter": "total"}),
    "over": ("[prog.total([i]) for i in range(5)]", {"max_calls": 1, "keep": 10}),
    "expand": ("(prog.total([5]), prog.total([1, 2]))", {"expand": 2}),
    "expand_folded": ("prog.fib(7)", {"expand": 9, "keep": 1}),
    "values": ("prog.Box().put('x' * 500)", {"value_chars": 40}),
    "main": ("prog.main()", {"keep": 2}),
    "resumed": ("prog.walk([], 0)", {"keep": 1}),  # a traced call's lines after a folded call of its own code
}


def load(workspace: str) -> Any:
    path = os.path.join(workspace, "prog.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(PROGRAM)
    spec = importlib.util.spec_from_file_location("prog_under_trace", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_all(trace_calls: Any, workspace: str, mechanism: str) -> Dict[str, Any]:
    """Each scenario's record, as JSON would carry it (tuples as lists), and ``used``: the mechanisms that ran."""
    prog = load(workspace)
    out: Dict[str, Any] = {}
    used = set()
    for name, (source, settings) in SCENARIOS.items():
        tracer = trace_calls.Tracer(workspace, trace_calls.read_spec(json.dumps(settings)), mechanism)
        run: Callable[[], Any] = eval("lambda: " + source, {"prog": prog})
        tracer.start()
        used.add("monitoring" if tracer.monitor is not None else "settrace")
        try:
            run()
        except ValueError:
            pass
        finally:
            tracer.stop()
        out[name] = json.loads(json.dumps(tracer.record("target", "passed")))
    return {"used": sorted(used), "records": out}


def main(argv: List[str]) -> int:
    support, workspace, mechanisms = argv
    sys.path.insert(0, support)
    import trace_calls

    runs = {mechanism: run_all(trace_calls, workspace, mechanism) for mechanism in mechanisms.split(",")}
    json.dump({"python": list(sys.version_info[:2]), "runs": runs}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
