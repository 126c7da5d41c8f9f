"""The eval tool: run the task's tests, report each test, show the failures.

pytest runs with a plugin (``support/eval_plugin.py``) that records every test
as it finishes and stops a test that runs past its time, so one infinite loop
fails one test, not the whole run; an overall timeout bounds the run. The
failures are read from those records, so pytest's own summary is left out.
"""

from __future__ import annotations

import ast
import json
import secrets
from dataclasses import dataclass, field
from typing import Callable

from gym_pdb.sandbox.base import Sandbox
from gym_pdb.sandbox.support import eval_command, eval_run_args
from gym_pdb.tasks.task import Task
from gym_pdb.tools.base import Tool, ToolResult
from gym_pdb.tools.context import ToolContext, ToolSettings


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str  # passed, failed, error, skipped, timeout
    duration: float = 0.0
    details: str = ""


@dataclass
class EvalResult:
    tests: list[TestOutcome] = field(default_factory=list)
    total: int = 0
    collect_errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    output: str = ""
    elapsed: float = 0.0

    @property
    def passed(self) -> int:
        return sum(t.outcome == "passed" for t in self.tests)

    @property
    def failed(self) -> int:
        return sum(t.outcome != "passed" and t.outcome != "skipped" for t in self.tests) + max(
            0, self.total - len(self.tests)
        )

    @property
    def resolved(self) -> bool:
        skipped = sum(t.outcome == "skipped" for t in self.tests)
        return not self.collect_errors and self.passed > 0 and self.passed + skipped == self.total

    def to_info(self, detail_chars: int = 4000) -> dict:
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


def run_tests(ctx: ToolContext) -> EvalResult:
    """Run the episode's tests in its sandbox and gather the per-test outcomes."""
    return run_task_tests(ctx.sandbox, ctx.task, ctx.settings)


def run_task_tests(sandbox: Sandbox, task: Task, settings: ToolSettings) -> EvalResult:
    """Run ``task``'s tests on the files now in ``sandbox`` (also used by the audit and the generator)."""
    info = sandbox.info
    results = f".gym-pdb-eval-{secrets.token_hex(6)}.jsonl"
    args, env = eval_command(info.support_dir, info.workdir)
    argv = [info.python, *args, *eval_run_args(results, settings.test_timeout, task.test_files)]
    run = sandbox.run(argv, timeout=settings.eval_timeout, env=env)
    try:
        raw = sandbox.read_file(results).decode("utf-8", "replace")
    except Exception:  # no results file: pytest never got going
        raw = ""
    finally:
        sandbox.remove_file(results)
    result = parse_results(raw, lambda: static_test_count(task))
    result.timed_out = run.timed_out
    result.elapsed = run.elapsed
    result.output = run.text.replace(info.workdir.rstrip("/") + "/", "")
    for t in result.tests:
        if t.outcome == "running":  # started, never finished: the run was stopped or crashed
            t.outcome = "timeout" if run.timed_out else "error"
    return result


def parse_results(raw: str, fallback_total: Callable[[], int]) -> EvalResult:
    """The outcomes in the plugin's records; ``fallback_total()`` counts the tests when collection did not."""
    result = EvalResult()
    collected: list[str] | None = None
    by_id: dict[str, TestOutcome] = {}
    for line in raw.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a killed run
        event = record.get("event")
        if event == "collected":
            collected = record["nodeids"]
        elif event == "collect_error":
            result.collect_errors.append(record.get("longrepr", ""))
        elif event == "test":
            nodeid = record["nodeid"]
            t = by_id.setdefault(nodeid, TestOutcome(nodeid, "running"))
            t.duration += record.get("duration", 0.0)
            when, outcome = record["when"], record["outcome"]
            if outcome == "failed":
                t.outcome = "failed" if when == "call" else ("error" if t.outcome in ("running", "passed") else t.outcome)
                t.details = record.get("longrepr", "")
            elif outcome == "skipped" and t.outcome == "running":
                t.outcome = "skipped"
            elif when == "call" and outcome == "passed" and t.outcome == "running":
                t.outcome = "passed"
    order = collected if collected is not None else list(by_id)
    for nodeid in order:
        result.tests.append(by_id.get(nodeid) or TestOutcome(nodeid, "not run"))
    result.total = len(order) if collected else max(fallback_total(), len(order))
    return result


def static_test_count(task) -> int:
    """Count test functions by reading the test files (used when collection fails)."""
    count = 0
    for path in task.test_files:
        try:
            tree = ast.parse(task.files.get(path, ""))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                count += 1
            elif isinstance(node, ast.ClassDef):
                is_test_class = node.name.startswith("Test") or any(
                    getattr(b, "attr", getattr(b, "id", "")) == "TestCase" for b in node.bases
                )
                if is_test_class:
                    count += sum(
                        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
                        for n in node.body
                    )
    return count


def format_result(result: EvalResult, budget: int) -> str:
    lines = []
    if result.collect_errors and not result.tests:
        lines.append(f"The tests could not be run: 0/{result.total} passed.")
    else:
        counts = {}
        for t in result.tests:
            counts[t.outcome] = counts.get(t.outcome, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        lines.append(f"{result.passed}/{result.total} tests passed ({detail}).")
    if result.timed_out:
        lines.append(f"The test run was stopped after {result.elapsed:.0f}s; tests not finished count as failed.")
    for t in result.tests:
        lines.append(f"{t.outcome.upper():8s} {t.nodeid}")
    details = []
    for err in result.collect_errors:
        details.append(f"Collection error:\n{err.strip()}")
    for t in result.tests:
        if t.details:
            details.append(f"___ {t.nodeid} ___\n{t.details.strip()}")
    if not result.tests and not result.collect_errors:
        details.append(result.output.strip()[-budget:] or "(pytest printed nothing)")
    text = "\n".join(lines)
    if details:
        body = "\n\n".join(details)
        room = max(200, budget - len(text))
        if len(body) > room:
            body = body[:room] + f"\n... [{len(body) - room} more characters of failure output cut]"
        text += "\n\n" + body
    return text.replace("\x1e", "")


class EvalTool(Tool):
    name = "eval"
    description = "Run the tests and report which pass; shows the failures (output cut to a budget)."
    parameters = {"type": "object", "properties": {}}
    usage = "eval"

    def __call__(self, ctx: ToolContext) -> ToolResult:
        result = run_tests(ctx)
        ctx.last_eval = result
        return ToolResult(
            format_result(result, ctx.settings.eval_output_chars),
            tests_passed=result.passed,
            tests_total=result.total,
            extra={"eval": result},
        )


class SubmitTool(EvalTool):
    name = "submit"
    description = "Run the tests one last time and end the episode."
    usage = "submit"

    def __call__(self, ctx: ToolContext) -> ToolResult:
        result = super().__call__(ctx)
        result.terminate = True
        return result
