"""pytest plugin for gym-pdb's eval, run inside the sandbox.

Records the run on its record channel (``records.py``: a socket of its own,
authenticated lines, never a file of the workspace) as it goes, so the host
knows every finished test even when the whole run is stopped:
``collected`` (the node ids), ``collect_error``, ``call`` (what the test
function itself did: returned, or raised what), ``test`` (pytest's report of a
phase, for the failure texts), ``evidence`` (tampering seen in this process)
and ``end``. ``--gym-pdb-timeout`` bounds each test: a test that runs longer
fails with the stack where it was stopped, and the other tests still run.

Before collection, so before any code of the workspace is imported, it takes
the channel's key, makes the process undumpable (no other process of the
sandbox's uid may read its memory), installs the audit hook of ``guard.py``
(which also refuses the program writing bytecode: a planted ``.pyc`` would
replace a test module's code) and drops the handles to the session that
pytest keeps in module globals. The plugin's hooks are closures
made here: nothing a program later changes in this module reaches them. At
the session's end, it checks that the test modules' functions and classes are
still what was collected, and the modules the tests use (builtins, unittest,
math...) what they were before the program was imported.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
import unittest  # noqa: F401  (its asserts are snapshotted before the program can patch them)
from typing import Any, Callable, Generator, Iterator, List, Tuple

import pytest
from _pytest.outcomes import Exit, Skipped, XFailed

import guard
import records
import trace_calls

LONGREPR_LIMIT = 4000
# The modules a test file imports (``import a.b`` / ``from a.b import x``: the first of a list), read
# without parsing it.
IMPORTED = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import|import[ \t]+([\w.]+))", re.M)
PR_SET_DUMPABLE = 4

Write = Callable[[dict], None]
Disarm = Callable[[], None]
# (name, owner, {attribute: id of its value}) for each module or class whose attributes are watched.
Baseline = List[Tuple[str, Any, dict]]


class TestTimeout(BaseException):
    """Raised in a test that ran past its time (a BaseException: `except Exception` can't swallow it)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gym-pdb")
    group.addoption("--gym-pdb-eval", action="store_true", default=False)
    group.addoption("--gym-pdb-timeout", type=float, default=0.0)
    group.addoption("--gym-pdb-trace", default=None)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--gym-pdb-eval"):
        record(config, config.getoption("--gym-pdb-timeout"), config.getoption("--gym-pdb-trace"))


def record(config: pytest.Config, timeout: float, trace: str | None = None) -> None:
    """Record this run's tests on the record channel, each stopped after ``timeout`` seconds.

    ``trace``: the settings of a ``trace`` run (``trace_calls.read_spec``), whose
    tests' calls are traced and recorded too; such a run is never judged.
    """
    fd, key = records.take_channel()
    os.set_inheritable(fd, False)
    write = records.writer(fd, key)
    del key
    _undumpable()
    workspace = str(config.rootpath)
    test_files = [str(a) for a in config.args]
    baseline = _baseline(workspace, test_files)
    guard.install(workspace, test_files, lambda text: write({"e": "evidence", "text": text}))
    _drop_session_handles()
    tracer = trace_calls.Tracer(workspace, trace_calls.read_spec(trace)) if trace is not None else None
    config.pluginmanager.register(_recorder(write, timeout, workspace, baseline, tracer), "gym-pdb-recorder")
    _skip_final_garbage_collection(config)


def _prctl() -> Any:
    """libc's prctl, looked up once (in the warm interpreter, before its forks)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _undumpable() -> None:
    if _PRCTL is not None:
        _PRCTL(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _drop_session_handles() -> None:
    """pytest keeps its config where any module could reach it: the eval needs neither."""
    debugging = sys.modules.get("_pytest.debugging")
    if debugging is not None:
        debugging.pytestPDB._config = None
        debugging.pytestPDB._pluginmanager = None


def _recorder(
    write: Write, timeout: float, workspace: str, baseline: Baseline, tracer: trace_calls.Tracer | None = None
) -> object:
    """The plugin that records the run: its hooks as closures over ``write``."""
    state: dict[str, Any] = {"disarm_collect": None, "snapshot": None, "tampered": set()}
    is_instance, type_of = isinstance, type

    def limit(seconds: float, what: str, repeat: bool = True) -> Disarm:
        """Arm an alarm that stops ``what`` after ``seconds``; returns the disarm function.

        With ``repeat``, the alarm fires again every half second until disarmed,
        so that code which catches the first interruption is interrupted again.
        """
        if timeout <= 0:
            return lambda: None
        armed = [True]

        def alarm(signum: int, frame: object) -> None:
            if armed[0]:
                armed[0] = repeat
                if repeat:
                    signal.setitimer(signal.ITIMER_REAL, 0.5)
                raise TestTimeout("%s ran for more than %gs and was stopped (an infinite loop?)" % (what, seconds))

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)

        def disarm() -> None:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

        return disarm

    def check_unchanged() -> None:
        changed = list(_changed_modules(baseline))
        if state["snapshot"] is not None:
            changed += _changed(state["snapshot"])
        for what in changed:
            if what not in state["tampered"]:
                state["tampered"].add(what)
                write({"e": "evidence", "text": "%s was replaced while the tests ran" % what})

    class Recorder:
        @pytest.hookimpl(hookwrapper=True, trylast=True)
        def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, None]:
            disarm = limit(timeout, "the test")
            try:
                if tracer is not None:
                    tracer.start()
                outcome = yield
            finally:
                if tracer is not None:
                    tracer.stop()
                disarm()
            excinfo = outcome.excinfo
            exc = excinfo[1] if excinfo else None
            if exc is None:
                result = "passed"
            elif is_instance(exc, Skipped):
                result = "skipped"
            elif is_instance(exc, XFailed):
                result = "xfailed"
            elif is_instance(exc, TestTimeout):
                result = "timeout"
            elif is_instance(exc, Exit):
                result = "exit"
            else:
                result = "failed"
            write({"e": "call", "id": item.nodeid, "outcome": result, "error": type_of(exc).__name__ if exc else ""})
            if tracer is not None:
                error = "%s: %s" % (type_of(exc).__name__, tracer.show(exc, plain=True, first_line=True)) if exc else ""
                write(tracer.record(item.nodeid, result + (" (%s)" % error if error else "")))

        def pytest_collectstart(self, collector: pytest.Collector) -> None:
            if is_instance(collector, pytest.Module):
                state["disarm_collect"] = limit(4 * timeout, "importing " + collector.name, repeat=False)

        @pytest.hookimpl(tryfirst=True)
        def pytest_collectreport(self, report: pytest.CollectReport) -> None:
            disarm = state["disarm_collect"]
            if disarm is not None:
                disarm()
                state["disarm_collect"] = None
            if report.failed:
                write({"e": "collect_error", "id": report.nodeid, "longrepr": str(report.longrepr)[-LONGREPR_LIMIT:]})

        def pytest_collection_finish(self, session: pytest.Session) -> None:
            write({"e": "collected", "ids": [item.nodeid for item in session.items]})
            state["snapshot"] = _snapshot(session.items, workspace)
            _stop_rewriting_imports()

        def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
            record: dict[str, Any] = {
                "e": "test",
                "id": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "duration": round(report.duration, 6),
            }
            if hasattr(report, "wasxfail"):
                record["wasxfail"] = True
            if report.failed:
                text = report.longreprtext
                for name, content in report.sections:
                    text += "\n--- %s ---\n%s" % (name, content)
                if len(text) > LONGREPR_LIMIT:
                    text = text[: LONGREPR_LIMIT // 4] + "\n...\n" + text[-3 * LONGREPR_LIMIT // 4 :]
                record["longrepr"] = text
            write(record)

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
            check_unchanged()
            write({"e": "end", "status": int(exitstatus)})

    return Recorder()


def _baseline(workspace: str, test_files: list[str]) -> Baseline:
    """Before the program is imported: the attributes of the modules the tests use, as they are.

    ``builtins``, ``unittest`` and the modules the test files import that are
    loaded already (the standard library's, numpy): a program that patches
    one of them (``math.isclose``, ``TestCase.assertEqual``) changes what the
    tests check.
    """
    names = {"builtins", "unittest"}
    for path in test_files:
        try:
            with open(os.path.join(workspace, path), encoding="utf-8") as f:
                names.update(a or b for a, b in IMPORTED.findall(f.read()))
        except (OSError, ValueError):
            continue
    baseline: Baseline = []
    for name in sorted(names):
        module = sys.modules.get(name)
        if module is None or str(getattr(module, "__file__", "") or "").startswith(workspace):
            continue
        baseline.append((name, module, {k: id(v) for k, v in vars(module).items()}))
        if name == "unittest":
            case = module.TestCase
            baseline.append(("unittest.TestCase", case, {k: id(v) for k, v in vars(case).items()}))
    return baseline


def _changed_modules(baseline: Baseline) -> Iterator[str]:
    for name, owner, attributes in baseline:
        now = vars(owner)
        for key, value_id in attributes.items():
            if id(now.get(key)) != value_id:
                yield "%s.%s" % (name, key)


def _snapshot(items: list[pytest.Item], workspace: str) -> tuple[Baseline, dict]:
    """What the tests run with that a program could swap: the test modules' names, their classes' methods, the test functions."""
    owners: Baseline = []
    functions: dict[str, tuple[Any, tuple[int, int, int]]] = {}
    seen: set[str] = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__ not in seen and str(getattr(module, "__file__", "")).startswith(workspace):
            seen.add(module.__name__)
            owners.append((module.__name__, module, {k: id(v) for k, v in vars(module).items() if callable(v)}))
            for key, value in vars(module).items():
                if isinstance(value, type) and value.__module__ == module.__name__:
                    owners.append(("%s.%s" % (module.__name__, key), value, {k: id(v) for k, v in vars(value).items()}))
        function = getattr(item, "function", None)
        if function is not None:
            functions[item.nodeid] = (function, _function_key(function))
    return owners, functions


def _function_key(function: Any) -> tuple[int, int, int]:
    return id(function.__code__), id(function.__defaults__), id(function.__kwdefaults__)


def _changed(snapshot: tuple[Baseline, dict]) -> Iterator[str]:
    owners, functions = snapshot
    yield from _changed_modules(owners)
    for nodeid, (function, key) in functions.items():
        if _function_key(function) != key:
            yield "the code of %s" % nodeid


def _stop_rewriting_imports() -> None:
    """pytest's assertion-rewriting import hook holds the config; the collected tests are rewritten already."""
    for finder in list(sys.meta_path):
        if type(finder).__name__ == "AssertionRewritingHook":
            sys.meta_path.remove(finder)


def parse_run_args(args: list[str]) -> tuple[float, list[str], str | None] | None:
    """``(timeout, test files, trace settings or None)`` from an eval's per-run arguments, or None if they are not just those.

    The form, that of the host's ``eval_run_args``:
    ``--gym-pdb-eval --gym-pdb-timeout SECONDS [--gym-pdb-trace SPEC] FILE...``.
    """
    if len(args) < 4 or args[0] != "--gym-pdb-eval" or args[1] != "--gym-pdb-timeout":
        return None
    try:
        timeout = float(args[2])
    except ValueError:
        return None
    files: list[str] = list(args[3:])
    trace: str | None = None
    if files[0] == "--gym-pdb-trace":
        trace, files = files[1] if len(files) > 1 else None, files[2:]
        if trace is None or not files:
            return None
    if any(not f or f.startswith("-") for f in files):
        return None
    return timeout, files, trace


def _skip_final_garbage_collection(config: pytest.Config) -> None:
    """No ``gc.collect()`` at the session's end (as pytester's in-process runs do).

    pytest collects garbage at the end to report exceptions raised in ``__del__``
    of unreachable objects as warnings; no test outcome depends on them, the
    process exits right after, and the collection is a fifth of a short run.
    """
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:
        return
    config.stash[gc_collect_iterations_key] = 0
