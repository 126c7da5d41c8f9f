"""What a test run established: each test's outcome, and whether the run can be trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str  # passed, failed, error, skipped, xfailed, timeout, not run
    duration: float = 0.0
    details: str = ""


@dataclass
class Expected:
    """The tests a task's run must pass: those its own test files define, from a trusted run.

    ``ids``: the tests that must reach a genuine pass; ``collected``: every id
    the trusted run collected (also those that skip there, which are not
    expected). None where the trusted run could not collect.
    """

    ids: tuple[str, ...]
    collected: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"ids": list(self.ids), "collected": list(self.collected)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Expected":
        return cls(tuple(data["ids"]), tuple(data["collected"]))


@dataclass
class EvalResult:
    """One run of a task's tests, judged.

    ``evidence`` lists tampering seen (the run is then invalid and earns
    nothing); ``flags`` what a static check of the program found that no
    sandbox can stop (see ``verdict.flags``).
    """

    tests: list[TestOutcome] = field(default_factory=list)
    total: int = 0
    collect_errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    output: str = ""
    elapsed: float = 0.0
    evidence: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    finished: bool = False  # pytest reached the end of its session
    unexpected: list[str] = field(default_factory=list)  # ids collected that the task's tests do not define

    @property
    def passed(self) -> int:
        return sum(t.outcome == "passed" for t in self.tests)

    @property
    def failed(self) -> int:
        return sum(t.outcome not in ("passed", "skipped") for t in self.tests) + max(0, self.total - len(self.tests))

    @property
    def valid(self) -> bool:
        return not self.evidence

    @property
    def resolved(self) -> bool:
        """Every expected test genuinely passed, in a finished run with no tampering and nothing extra."""
        return (
            self.valid
            and self.finished
            and not self.collect_errors
            and not self.unexpected
            and self.total > 0
            and self.passed == self.total
        )

    def to_info(self, detail_chars: int = 4000) -> dict[str, Any]:
        """Per-test outcomes as plain data (``info["eval"]``): recorders and viewers read these, not the text."""

        def cut(text: str) -> str:
            return text if len(text) <= detail_chars else text[:detail_chars] + f"\n... [{len(text) - detail_chars} cut]"

        return {
            "passed": self.passed,
            "total": self.total,
            "timed_out": self.timed_out,
            "collect_errors": [cut(e) for e in self.collect_errors],
            "tests": [
                {"nodeid": t.nodeid, "outcome": t.outcome, "duration": round(t.duration, 4), "details": cut(t.details)}
                for t in self.tests
            ],
        }

    def integrity(self) -> dict[str, Any]:
        """``info["integrity"]``."""
        return {"valid": self.valid, "evidence": list(self.evidence), "flags": list(self.flags)}
