"""pytest plugin for gym-pdb's eval, run inside the sandbox.

Writes one JSON line per collected set and per test phase to the file named by
``--gym-pdb-results`` as the run goes, so the host knows every finished test
even when the whole run is stopped. ``--gym-pdb-timeout`` bounds each test:
a test that runs longer fails with the stack where it was stopped, and the
other tests still run.
"""

import json
import signal

import pytest

LONGREPR_LIMIT = 4000


class TestTimeout(BaseException):
    """Raised in a test that ran past its time (a BaseException: `except Exception` can't swallow it)."""


def pytest_addoption(parser):
    group = parser.getgroup("gym-pdb")
    group.addoption("--gym-pdb-results", default=None)
    group.addoption("--gym-pdb-timeout", type=float, default=0.0)


class Recorder:
    def __init__(self, path, timeout):
        self.out = open(path, "a", encoding="utf-8")
        self.timeout = timeout

    def write(self, record):
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def _limit(self, seconds, what, repeat=True):
        """Arm an alarm that stops ``what`` after ``seconds``; returns the disarm function.

        With ``repeat``, the alarm fires again every half second until disarmed,
        so that code which catches the first interruption is interrupted again.
        """
        if self.timeout <= 0:
            return lambda: None
        armed = [True]

        def alarm(signum, frame):
            if armed[0]:
                armed[0] = repeat
                if repeat:
                    signal.setitimer(signal.ITIMER_REAL, 0.5)
                raise TestTimeout("%s ran for more than %gs and was stopped (an infinite loop?)" % (what, seconds))

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)

        def disarm():
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

        return disarm

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        disarm = self._limit(self.timeout, "the test")
        try:
            yield
        finally:
            disarm()

    def pytest_collectstart(self, collector):
        if isinstance(collector, pytest.Module):
            self._disarm_collect = self._limit(4 * self.timeout, "importing " + collector.name, repeat=False)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report):
        disarm = getattr(self, "_disarm_collect", None)
        if disarm is not None:
            disarm()
            self._disarm_collect = None
        if report.failed:
            self.write(
                {
                    "event": "collect_error",
                    "nodeid": report.nodeid,
                    "longrepr": str(report.longrepr)[-LONGREPR_LIMIT:],
                }
            )

    def pytest_collection_finish(self, session):
        self.write({"event": "collected", "nodeids": [item.nodeid for item in session.items]})

    def pytest_runtest_logreport(self, report):
        record = {
            "event": "test",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "duration": round(report.duration, 6),
        }
        if report.failed:
            text = report.longreprtext
            for name, content in report.sections:
                text += "\n--- %s ---\n%s" % (name, content)
            if len(text) > LONGREPR_LIMIT:
                text = text[: LONGREPR_LIMIT // 4] + "\n...\n" + text[-3 * LONGREPR_LIMIT // 4 :]
            record["longrepr"] = text
        self.write(record)


def pytest_configure(config):
    path = config.getoption("--gym-pdb-results")
    if path:
        record(config, path, config.getoption("--gym-pdb-timeout"))


def record(config, path, timeout):
    """Record this run's tests into ``path``, each stopped after ``timeout`` seconds."""
    config.pluginmanager.register(Recorder(path, timeout), "gym-pdb-recorder")
    _skip_final_garbage_collection(config)


def parse_run_args(args):
    """``(results, timeout, test files)`` from an eval's per-run arguments, or None if they are not just those.

    The form, that of the host's ``eval_run_args``:
    ``--gym-pdb-results PATH --gym-pdb-timeout SECONDS FILE...``.
    """
    if len(args) < 5 or args[0] != "--gym-pdb-results" or args[2] != "--gym-pdb-timeout":
        return None
    try:
        timeout = float(args[3])
    except ValueError:
        return None
    files = list(args[4:])
    if any(not f or f.startswith("-") for f in files):
        return None
    return args[1], timeout, files


def _skip_final_garbage_collection(config):
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
