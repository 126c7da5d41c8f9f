"""Judge a test run from its records: each test's outcome, and which of them count.

Shared by the runs of small programs (``verdict.run``) and of repositories
(``verdict.repo_run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gym_pdb.verdict.result import EvalResult, Expected, TestOutcome


@dataclass(frozen=True)
class Timeouts:
    """Seconds a test may run, and a whole run."""

    test: float = 5.0
    run: float = 120.0


DEFAULT_TIMEOUTS = Timeouts()


def judge(records: list[dict[str, Any]], expected: Expected | None, fallback_total: Any = lambda: 0) -> EvalResult:
    """Each test's outcome from a run's records; ``fallback_total()`` counts the tests when collection did not."""
    result = EvalResult()
    collected: list[str] | None = None
    tests: dict[str, TestOutcome] = {}
    calls: dict[str, str] = {}
    reports: dict[str, dict[str, dict]] = {}
    for record in records:
        event = record.get("e")
        if event == "collected" and collected is None:
            collected = [str(i) for i in record.get("ids", [])]
        elif event == "collect_error":
            result.collect_errors.append(str(record.get("longrepr", "")))
        elif event == "call":
            calls.setdefault(str(record.get("id")), str(record.get("outcome")))
        elif event == "test":
            nodeid = str(record.get("id"))
            reports.setdefault(nodeid, {})[str(record.get("when"))] = record
            t = tests.setdefault(nodeid, TestOutcome(nodeid, "running"))
            t.duration += float(record.get("duration", 0.0))
            if record.get("outcome") == "failed":
                t.details = str(record.get("longrepr", ""))
        elif event == "evidence":
            result.evidence.append(str(record.get("text", "")))
        elif event == "end":
            result.finished = True
    for nodeid, t in tests.items():
        t.outcome = _outcome(reports.get(nodeid, {}), calls.get(nodeid))
    order = collected if collected is not None else list(tests)
    if expected is not None and collected is not None:
        result.unexpected = [i for i in collected if i not in set(expected.collected)]
        order = list(expected.ids) + result.unexpected
    for nodeid in order:
        result.tests.append(tests.get(nodeid) or TestOutcome(nodeid, "not run"))
    if expected is not None:
        result.total = len(expected.ids) + len(result.unexpected)
    else:
        result.total = len(order) if collected else max(fallback_total(), len(order))
    return result


def _outcome(phases: dict[str, dict], call: str | None) -> str:
    """A test's outcome from pytest's reports of its phases and what its function did (``call``).

    A pass is genuine only if the function returned (the plugin saw it, not
    a report a hook could rewrite), every phase's report agrees, and pytest
    did not count it as an expected failure.
    """
    setup, report, teardown = phases.get("setup"), phases.get("call"), phases.get("teardown")
    if setup is None:
        return "running"
    if setup.get("outcome") == "failed":
        return "error"
    if setup.get("outcome") == "skipped":
        return "xfailed" if setup.get("wasxfail") else "skipped"
    if report is None:
        return "running" if teardown is None else "error"
    if call in ("skipped", "xfailed"):
        return call
    if report.get("wasxfail"):
        return "xfailed"
    if call == "passed" and report.get("outcome") == "passed":
        return "error" if teardown is not None and teardown.get("outcome") == "failed" else "passed"
    if report.get("outcome") == "skipped":
        return "skipped"
    return "failed"
