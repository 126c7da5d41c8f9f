"""A function-level trace of the workspace's own functions, run inside the sandbox (stdlib only).

The ``trace`` tool's tracer. In a test run the eval plugin starts it around
each test's call (``eval_plugin.record``); for a program, this file runs as
the script (``python trace_calls.py --gym-pdb-trace SPEC TIMEOUT PROGRAM ARGS``)
and runs the program under it. Either way the trace goes out as one record
per test (or program) on the run's record channel (``records.py``), never on
the program's output; the host formats it (``gym_pdb/tools/trace_format.py``).
A trace is never judged: nothing here reaches a verdict.

What is traced: calls of functions whose code lies in the workspace, but not
in its test files (nor in a ``site-packages`` inside it). Every such call is
numbered in order (the numbers do not depend on the filter or limits, so a
second run can expand call N to line level). A function's first ``keep``
calls are traced line by line; later ones are folded: counted, their lines
not traced (``f_trace_lines`` off, so a 10,000-call recursion costs one
Python call per call and return), and the last ``keep`` of them kept with
their arguments and result. Calls past ``max_depth`` or ``max_calls``, or not
matching the filter, are only counted.

The mechanism: ``sys.settrace`` on 3.11 and older (the sandbox's Python is
3.11); ``sys.monitoring`` (``trace_monitor.py``) where the interpreter has it
(3.12+), with the same observation, falling back to settrace when no
monitoring tool id is free.
"""

from __future__ import annotations

import ast
import collections
import fnmatch
import importlib
import json
import os
import reprlib
import sys
from types import CodeType, FrameType
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

try:
    import trace_monitor  # the sandbox's import: the support folder is on sys.path
except ImportError:  # the host's tests import this file as gym_pdb.sandbox.support.trace_calls
    trace_monitor = importlib.import_module(__name__.rpartition(".")[0] + ".trace_monitor")

Spec = Dict[str, Any]  # read_spec's settings
Pairs = List[Tuple[str, str]]  # (name, value shown) of arguments or locals
Record = Dict[str, Any]

LIMITS = {  # name: (default, smallest, largest)
    "max_calls": (40, 1, 500),
    "max_depth": (10, 1, 100),
    "value_chars": (80, 20, 400),
    "keep": (3, 1, 10),
    "expand": (0, 0, 10**9),
}
MAX_LINE_EVENTS = 5000  # per traced call; past it the call's lines are no longer traced
MAX_STEPS = 300  # line steps of an expanded call
MAX_NAMES = 12  # arguments or changed locals shown per call
MAX_RECORD = 800_000  # bytes of one trace record (the channel takes lines up to 1 MiB)
MISSING = object()
CO_NEWLOCALS = 0x02


def read_spec(text: Optional[str]) -> Spec:
    """The trace's settings from the JSON the host sent, clamped to their ranges."""
    raw = json.loads(text) if text else {}
    spec: Spec = {}
    for name, (default, low, high) in LIMITS.items():
        try:
            value = int(raw.get(name, default))
        except (TypeError, ValueError):
            value = default
        spec[name] = min(max(value, low), high)
    spec["filter"] = str(raw.get("filter") or "")
    spec["exclude"] = [str(p) for p in raw.get("exclude") or []]
    return spec


class Call:
    """One call of a workspace function, as the trace shows it."""

    __slots__ = ("number", "depth", "name", "args", "lines", "changed", "result", "raised", "code", "steps", "last")

    def __init__(self, number: int, depth: int, name: str, args: Pairs, code: CodeType, lines: Optional[List[int]]):
        self.number, self.depth, self.name, self.args, self.code = number, depth, name, args, code
        self.lines = lines  # [line, ...] when traced line by line, else None
        self.changed: Optional[Pairs] = None
        self.result: Optional[str] = None
        self.raised: Any = None  # the (type, value, traceback) of an exception event, then its text at the return
        self.steps: Optional[List[Tuple[int, Pairs]]] = None  # [(line, locals it changed)] when expanded
        self.last: Dict[str, str] = {}  # the locals' values at the last line event (expanded calls)


class Fold:
    """The calls of one function past its first few: counted, the last few kept."""

    __slots__ = ("first", "count", "low", "high", "tail")

    def __init__(self, number: int, depth: int, keep: int):
        self.first = number
        self.count = 0
        self.low = self.high = depth
        self.tail: Deque[Call] = collections.deque(maxlen=keep)


class Tracer:
    """Traces the calls of one test (or program): ``start()``, run it, ``stop()``, then ``record()``."""

    def __init__(self, workspace: str, spec: Spec, mechanism: Optional[str] = None):
        """``mechanism``: ``settrace`` or ``monitoring``; by default monitoring where the interpreter has it."""
        self.mechanism = mechanism or ("monitoring" if trace_monitor.available() else "settrace")
        self.monitor: Optional[trace_monitor.Monitor] = None
        self.root = os.path.realpath(workspace) + os.sep
        self.spec = spec
        self.exclude = {os.path.realpath(os.path.join(workspace, p.split("::")[0])) for p in spec["exclude"]}
        self.names: Dict[CodeType, Optional[str]] = {}  # qualified name, or None when not the workspace's
        shown = reprlib.Repr()
        shown.maxstring = shown.maxother = spec["value_chars"]
        shown.maxlist = shown.maxtuple = shown.maxset = shown.maxdict = 6
        self.reprlib = shown
        self.reset()

    def reset(self) -> None:
        """A new test: the numbers go on from the last test's, so that ``expand`` names one call of the run."""
        self.stack: List[Optional[Call]] = []  # the workspace calls under way: a Call, a Fold's light Call, or None
        self.first = self.number = getattr(self, "number", 0)
        self.entries: List[Call] = []
        self.folds: Dict[str, Fold] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.hidden: collections.Counter[str] = collections.Counter()

    # -- tracing ---------------------------------------------------------------
    def start(self) -> None:
        self.reset()
        if self.mechanism == "monitoring" and trace_monitor.available():
            self.monitor = trace_monitor.Monitor(self, MAX_LINE_EVENTS)
            if self.monitor.start():
                return
            self.monitor = None
        sys.settrace(self.on_call)

    def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        else:
            sys.settrace(None)

    def name_of(self, code: CodeType) -> Optional[str]:
        filename = code.co_filename
        if filename.startswith("<"):  # frozen modules, code compiled from strings
            return None
        real = os.path.realpath(os.path.join(self.root, filename))
        if not real.startswith(self.root) or real in self.exclude or "/site-packages/" in real:
            return None
        if os.path.basename(real) in ("conftest.py", os.path.basename(__file__), "trace_monitor.py"):
            return None
        return "%s:%s" % (real[len(self.root) :], getattr(code, "co_qualname", code.co_name))

    def on_call(self, frame: FrameType, event: str, arg: Any) -> Optional[Callable[..., Any]]:
        if event != "call":
            return None
        code = frame.f_code
        try:
            name = self.names[code]
        except KeyError:
            name = self.names[code] = self.name_of(code)
        if name is None:
            return None
        self.number += 1
        depth = len(self.stack) + 1
        try:
            entry = self.begin(frame, code, name, depth)
        except Exception:  # an exception here would turn tracing off and land in the program
            entry = None
        self.stack.append(entry)
        frame.f_trace_lines = entry is not None and entry.lines is not None
        return self.on_event

    def begin(self, frame: FrameType, code: CodeType, name: str, depth: int) -> Optional[Call]:
        spec = self.spec
        if self.number == spec["expand"]:
            entry = Call(self.number, depth, name, self.arguments(frame, code), code, [])
            entry.steps, entry.last = [], self.values(frame.f_locals)
            self.entries.append(entry)
            return entry
        if depth > spec["max_depth"]:
            self.hidden["deeper"] += 1
            return None
        if spec["filter"] and not matches(spec["filter"], name):
            self.hidden["filtered"] += 1
            return None
        self.counts[name] += 1
        if self.counts[name] <= spec["keep"]:
            if len(self.entries) >= spec["max_calls"]:
                self.hidden["over"] += 1
                return None
            entry = Call(self.number, depth, name, self.arguments(frame, code), code, [])
            self.entries.append(entry)
            return entry
        fold = self.folds.get(name)
        if fold is None:
            if len(self.folds) >= spec["max_calls"]:
                self.hidden["over"] += 1
                return None
            fold = self.folds[name] = Fold(self.number, depth, spec["keep"])
        fold.count += 1
        fold.low, fold.high = min(fold.low, depth), max(fold.high, depth)
        entry = Call(self.number, depth, name, self.arguments(frame, code), code, None)
        fold.tail.append(entry)
        return entry

    def on_event(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        if event == "line":
            entry = self.stack[-1] if self.stack else None
            if entry is not None and entry.lines is not None:
                entry.raised = None
                if entry.steps is not None:
                    self.step(entry, frame)
                entry.lines.append(frame.f_lineno)
                if len(entry.lines) >= MAX_LINE_EVENTS:
                    frame.f_trace_lines = False
        elif event == "exception":
            entry = self.stack[-1] if self.stack else None
            if entry is not None:
                entry.raised = arg
        elif event == "return":
            entry = self.stack.pop() if self.stack else None
            if entry is not None:
                self.end(entry, frame, arg)
        return self.on_event

    def end(self, entry: Call, frame: Optional[FrameType], value: Any) -> None:
        """A call's return: its result or exception; its frame is needed only when its lines were traced."""
        raised = entry.raised
        if raised is not None:
            entry.raised = "%s: %s" % (raised[0].__name__, self.show(raised[1], plain=True, first_line=True))
        else:
            entry.result = self.show(value)
        if frame is None:
            return
        if entry.steps is not None:
            self.step(entry, frame)
        if entry.lines is not None and entry.code.co_flags & CO_NEWLOCALS:  # not a module's or a class's body
            entry.changed = self.changes(dict(entry.args), self.values(frame.f_locals))

    def step(self, entry: Call, frame: FrameType) -> None:
        """An expanded call's line step: the locals the previous line changed."""
        now = self.values(frame.f_locals) if entry.code.co_flags & CO_NEWLOCALS else {}
        if entry.lines and entry.steps is not None and len(entry.steps) < MAX_STEPS:
            entry.steps.append((entry.lines[-1], self.changes(entry.last, now)))
        entry.last = now

    # -- values ------------------------------------------------------------------
    def show(self, value: Any, plain: bool = False, first_line: bool = False) -> str:
        limit: int = self.spec["value_chars"]
        try:
            text = str(value) if plain else self.reprlib.repr(value)
            if first_line:
                text = (text.strip().splitlines() or [""])[0]
        except BaseException as exc:  # a __repr__ that raises (or is interrupted) must not stop the trace
            text = "<%s; repr raised %s>" % (type(value).__name__, type(exc).__name__)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def arguments(self, frame: FrameType, code: CodeType) -> Pairs:
        flags = code.co_flags
        count = code.co_argcount + code.co_kwonlyargcount + bool(flags & 0x04) + bool(flags & 0x08)
        local = frame.f_locals
        return [(name, self.show(local[name])) for name in code.co_varnames[:count] if name in local][:MAX_NAMES]

    def values(self, local: Dict[str, Any]) -> Dict[str, str]:
        return {name: self.show(value) for name, value in list(local.items())[: 4 * MAX_NAMES]}

    @staticmethod
    def changes(before: Dict[str, str], after: Dict[str, str]) -> Pairs:
        changed = [(k, v) for k, v in after.items() if before.get(k, MISSING) != v]
        return changed[:MAX_NAMES]

    # -- the record --------------------------------------------------------------
    def record(self, target: str, outcome: str) -> Record:
        """The trace as one JSON-able record (``e: trace``)."""
        branches = Branches()
        calls: List[Record] = []
        for entry in self.entries:
            calls.append(self.entry_record(entry, branches))
        for name, fold in self.folds.items():
            tail = list(fold.tail)
            if fold.count > len(tail):
                calls.append({
                    "fold": name, "n": fold.first, "count": fold.count - len(tail),
                    "total": fold.count + self.spec["keep"], "low": fold.low, "high": fold.high,
                })  # fmt: skip
            calls.extend(self.entry_record(e, branches) for e in tail)
        calls.sort(key=lambda item: (item["n"], "fold" in item))
        record: Record = {
            "e": "trace",
            "target": target,
            "outcome": outcome,
            "calls": self.number - self.first,
            "entries": calls,
            "hidden": dict(self.hidden),
        }
        while len(json.dumps(record)) > MAX_RECORD and record["entries"]:
            record["entries"] = record["entries"][: len(record["entries"]) // 2]
            record["cut"] = True
        return record

    def entry_record(self, entry: Call, branches: Branches) -> Record:
        item: Record = {"n": entry.number, "d": entry.depth, "f": entry.name, "a": entry.args}
        if entry.raised is not None:
            item["x"] = entry.raised
        else:
            item["r"] = entry.result
        if entry.lines is not None:
            item["l"] = ranges(entry.lines)
            item["b"] = branches.taken(entry.code, entry.lines)
            item["c"] = entry.changed or []
            if len(entry.lines) >= MAX_LINE_EVENTS:
                item["lines_cut"] = True
        if entry.steps is not None:
            item["steps"] = entry.steps
            item["file"] = entry.code.co_filename
        return item


def matches(pattern: str, name: str) -> bool:
    """A filter: a glob (``*push*``) or a substring of ``file.py:Class.method``."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name.split(":", 1)[-1], pattern)
    return pattern in name


def ranges(lines: List[int]) -> str:
    """``3-7, 9, 12-14``: the lines run, as ranges."""
    out: List[List[int]] = []
    run: Optional[List[int]] = None
    for line in sorted(set(lines)):
        if run is not None and line == run[1] + 1:
            run[1] = line
            continue
        if run is not None:
            out.append(run)
        run = [line, line]
    if run is not None:
        out.append(run)
    return ", ".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in out)


class Branches:
    """The branches a call took, from the order of its lines and the ``if``/``while``/``for`` of its file."""

    def __init__(self) -> None:
        self.points: Dict[str, Dict[int, Tuple[str, int]]] = {}  # filename -> {line: (kind, first line of the body)}

    def of(self, filename: str) -> Dict[int, Tuple[str, int]]:
        points = self.points.get(filename)
        if points is None:
            points = self.points[filename] = {}
            try:
                with open(filename, encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (OSError, SyntaxError, ValueError):
                return points
            for node in ast.walk(tree):
                if isinstance(node, (ast.If, ast.While, ast.For, ast.AsyncFor)) and node.body:
                    kind = "for" if isinstance(node, (ast.For, ast.AsyncFor)) else type(node).__name__.lower()
                    points.setdefault(node.lineno, (kind, node.body[0].lineno))
        return points

    def taken(self, code: CodeType, lines: List[int]) -> str:
        """``if@4 T2 F1; for@3 x3``: each branch point's outcomes (a ``for``: its iterations)."""
        points = self.of(code.co_filename)
        seen: Dict[int, List[Any]] = {}
        for here, after in zip(lines, lines[1:], strict=False):
            point = points.get(here)
            if point is None:
                continue
            counts = seen.setdefault(here, [point[0], 0, 0])
            counts[1 if after == point[1] else 2] += 1
        parts = []
        for line in sorted(seen):
            kind, taken, skipped = seen[line]
            if kind == "for":
                parts.append("for@%d x%d" % (line, taken))
            else:
                parts.append(
                    "%s@%d %s"
                    % (kind, line, " ".join(filter(None, ["T%d" % taken if taken else "", "F%d" % skipped if skipped else ""])))
                )
        return "; ".join(parts)


def run_program(argv: List[str]) -> int:
    """``trace_calls.py --gym-pdb-trace SPEC TIMEOUT PROGRAM ARGS``: run the program under the tracer."""
    import runpy
    import signal
    import traceback

    import records

    fd, key = records.take_channel()
    os.set_inheritable(fd, False)
    write = records.writer(fd, key)
    spec, timeout, program = read_spec(argv[1]), float(argv[2]), argv[3]
    tracer = Tracer(os.getcwd(), spec)

    class Stopped(BaseException):
        pass

    def alarm(signum: int, frame: Any) -> None:
        raise Stopped("the program ran for more than %gs and was stopped" % timeout)

    signal.signal(signal.SIGALRM, alarm)
    sys.argv = list(argv[3:])
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    outcome = "exited normally"
    signal.setitimer(signal.ITIMER_REAL, timeout)
    tracer.start()
    try:
        runpy.run_path(program, run_name="__main__")
    except SystemExit as exc:
        outcome = "exited with code %s" % (exc.code,)
    except Stopped as exc:
        outcome = str(exc)
    except BaseException as exc:
        tracer.stop()
        traceback.print_exc()
        outcome = "raised %s: %s" % (type(exc).__name__, tracer.show(exc, plain=True, first_line=True))
    finally:
        tracer.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
    write(tracer.record(program, outcome))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run_program(sys.argv[1:]))
