"""The eval tool: run the task's tests, report each test, show the failures.

pytest runs with a plugin (``support/eval_plugin.py``) that records every test
as it finishes and stops a test that runs past its time, so one infinite loop
fails one test, not the whole run; an overall timeout bounds the run. The
failures are read from those records, so pytest's own summary is left out.
"""

from __future__ import annotations

import threading

from gym_pdb.tools.base import Tool, ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.registry import register_tool
from gym_pdb.verdict import flags as static
from gym_pdb.verdict.result import EvalResult
from gym_pdb.verdict.run import run_tests as run_task_tests


def run_tests(ctx: ToolContext, synced: list[str] | None = None) -> EvalResult:
    """Run the episode's tests on the agent's files and judge them (expected tests, tampering, static flags).

    ``synced``: the workspace holds the agent's files already, with this
    evidence of tampering (``verdict.run.sync_workspace``); not for a repository task.

    The static check of the program reads only the host's copy of the files,
    so it runs in a thread while the sandbox runs the tests.
    """
    task = ctx.task
    program = {p: t for p, t in ctx.workspace.files.items() if p.endswith(".py") and task.is_editable(p)}
    if task.repo:  # a repository's own code is not the agent's: check what it changed; no process outlives the check
        program = {p: t for p, t in program.items() if task.files.get(p) != t}
        ctx.session.stop()
    tests = {p: task.files.get(p, "") for p in task.test_files}
    flags: list[list[str]] = []
    check = threading.Thread(target=lambda: flags.append(static.static_flags(program, tests)), daemon=True)
    check.start()
    result = run_task_tests(ctx.sandbox, task, ctx.settings.timeouts, ctx.expected, ctx.workspace.files, synced)
    check.join()
    result.flags = flags[0] if flags else []
    return result


def format_result(result: EvalResult, budget: int) -> str:
    """The run as the agent reads it: a count, each test's outcome, then the failures, cut to ``budget``."""
    lines: list[str] = []
    if not result.valid:
        lines.append("The test run was invalid and earns nothing: " + "; ".join(result.evidence) + ".")
    if result.unexpected:
        lines.append("Tests that the task's test files do not define ran: " + ", ".join(result.unexpected) + ".")
    if result.collect_errors and not result.tests:
        lines.append(f"The tests could not be run: 0/{result.total} passed.")
    else:
        counts: dict[str, int] = {}
        for t in result.tests:
            counts[t.outcome] = counts.get(t.outcome, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        lines.append(f"{result.passed}/{result.total} tests passed ({detail}).")
    if result.timed_out:
        lines.append(f"The test run was stopped after {result.elapsed:.0f}s; tests not finished count as failed.")
    for t in result.tests:
        lines.append(f"{t.outcome.upper():8s} {t.nodeid}")
    details: list[str] = []
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


@register_tool
class EvalTool(Tool):
    name = "eval"
    description = "Run the tests and report which pass; shows the failures (output cut to a budget)."
    parameters = {"type": "object", "properties": {}}

    def __call__(self, ctx: ToolContext) -> ToolResult:
        result = run_tests(ctx)
        return ToolResult(format_result(result, ctx.settings.eval_output_chars), eval=result)


@register_tool
class SubmitTool(EvalTool):
    name = "submit"
    description = "Run the tests one last time and end the episode."

    def __call__(self, ctx: ToolContext) -> ToolResult:
        result = super().__call__(ctx)
        result.terminate = True
        return result
