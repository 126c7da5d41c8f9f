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

    def _alarm(self, signum, frame):
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        raise TestTimeout("the test ran for more than %gs and was stopped (an infinite loop?)" % self.timeout)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        if self.timeout > 0:
            previous = signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            yield
        finally:
            if self.timeout > 0:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

    def pytest_collection_finish(self, session):
        self.write({"event": "collected", "nodeids": [item.nodeid for item in session.items]})

    def pytest_collectreport(self, report):
        if report.failed:
            self.write(
                {
                    "event": "collect_error",
                    "nodeid": report.nodeid,
                    "longrepr": str(report.longrepr)[-LONGREPR_LIMIT:],
                }
            )

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
        config.pluginmanager.register(Recorder(path, config.getoption("--gym-pdb-timeout")), "gym-pdb-recorder")
