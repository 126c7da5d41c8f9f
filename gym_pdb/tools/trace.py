"""The trace tool: a function-level trace of a test run (or of the program), from inside the sandbox.

A test target runs the eval's way: the same command, the sandbox's prepared
pytest session, per-test timeouts and record channel, with one more per-run
argument that has the eval plugin trace each test's calls
(``support/trace_calls.py``). A program target runs ``trace_calls.py`` as the
script, which runs the program under the tracer. The trace comes back as
records; the tool formats them (``trace_format.py``). A trace run is never
judged: its result carries no ``eval``, so it neither pays a reward nor
counts as the episode's last run.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from gym_pdb.sandbox.support import eval_command, eval_run_args
from gym_pdb.sandbox.support.records import KEY_BYTES, RecordReader
from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.grammar import CommandLine, Named, Word
from gym_pdb.tools.registry import register_tool
from gym_pdb.tools.trace_format import TraceRun, format_trace
from gym_pdb.verdict.run import sync_workspace


def trace_spec(ctx: ToolContext, function: str | None, max_calls: int | None, max_depth: int | None, call: int | None) -> str:
    """The tracer's settings as the JSON it reads (``trace_calls.read_spec`` clamps them)."""
    spec: dict[str, Any] = {"exclude": list(ctx.task.test_files), "value_chars": ctx.settings.trace_value_chars}
    for name, value in (("filter", function), ("max_calls", max_calls), ("max_depth", max_depth), ("expand", call)):
        if value is not None:
            spec[name] = value
    return json.dumps(spec)


def run_trace(ctx: ToolContext, runner: str, targets: list[str], spec: str) -> TraceRun:
    """Run ``targets`` (test files or node ids under pytest, or one program under python) with the tracer."""
    sandbox, task = ctx.sandbox, ctx.task
    if task.repo:  # its workspace check is a small program's: it would strip a repository's tree
        raise ToolError("trace is not available on repository tasks; use pdb and eval")
    sync_workspace(sandbox, task, ctx.workspace.files)  # what a program left is gone before the run, as for an eval
    info = sandbox.info
    key = secrets.token_bytes(KEY_BYTES)
    settings = ctx.settings
    if runner == "pytest":
        args, env = eval_command(info.support_dir, info.workdir)
        argv = [info.python, *args, *eval_run_args(settings.test_timeout, targets, spec)]
        run = sandbox.run(argv, timeout=settings.eval_timeout, env=env, records_key=key)
    else:
        script = f"{info.support_dir}/trace_calls.py"
        argv = [info.python, script, "--gym-pdb-trace", spec, f"{settings.test_timeout:g}", targets[0]]
        env = {"PYTHONPATH": info.support_dir}
        run = sandbox.run(argv, timeout=settings.test_timeout + 10, env=env, records_key=key)
    reader = RecordReader(key)
    reader.feed(run.records)
    reader.close(cut=True)
    result = TraceRun(runner, targets, timed_out=run.timed_out, elapsed=run.elapsed)
    for record in reader.records:
        if record.get("e") == "trace":
            result.traces.append(record)
        elif record.get("e") == "collect_error":
            result.collect_errors.append(str(record.get("longrepr", "")))
    result.output = run.text.replace(info.workdir.rstrip("/") + "/", "")
    return result


@register_tool
class TraceTool(Tool):
    name = "trace"
    description = (
        "Run a test (or the program) and show a function-level trace of the workspace's own functions: each call in "
        "order, indented by depth, with its arguments, the lines it ran, the branches it took, the locals it changed "
        "and its return value or exception. Repeated calls are folded. Give call=N to see call #N line by line "
        "(the same run again)."
    )
    parameters = {
        "type": "object",
        "properties": {
            "target": {
                "type": "string",
                "description": "'test.py::test_name' or a test file (default: the task's tests), or the program's file.",
            },
            "function": {
                "type": "string",
                "description": "Show only calls whose name has this in it, or matches this glob (e.g. '*Stack.push').",
            },
            "max_calls": {"type": "integer", "description": "Show at most this many calls (default 40)."},
            "max_depth": {"type": "integer", "description": "Show calls nested at most this deep (default 10)."},
            "call": {"type": "integer", "description": "Expand the call with this number (#N in the trace) to line level."},
        },
    }
    command_line = CommandLine(
        Word("target"), Named("function"), Named("max_calls"), Named("max_depth"), Named("call"),
        usage="trace [FILE::TEST | FILE | PROGRAM] [function=NAME] [max_calls=N] [max_depth=N] [call=N]",
    )  # fmt: skip

    def __call__(
        self,
        ctx: ToolContext,
        target: str | None = None,
        function: str | None = None,
        max_calls: int | None = None,
        max_depth: int | None = None,
        call: int | None = None,
    ) -> ToolResult:
        if call is not None and call < 1:
            raise ToolError("call is the number of a call in the trace (#1, #2, ...)")
        runner, targets = self._target(ctx, target)
        run = run_trace(ctx, runner, targets, trace_spec(ctx, function, max_calls, max_depth, call))
        return ToolResult(format_trace(run, ctx.workspace.files, ctx.settings.trace_output_chars, call))

    @staticmethod
    def _target(ctx: ToolContext, target: str | None) -> tuple[str, list[str]]:
        """``(runner, targets)``: pytest for test files or a node id, python for any other Python file."""
        task = ctx.task
        if not target:
            return "pytest", list(task.test_files)
        path, sep, test = target.strip().partition("::")
        try:
            path = ctx.workspace.check_path(path)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if not ctx.workspace.exists(path):
            raise ToolError(f"no file {path!r} to run; files: {', '.join(ctx.workspace.visible_paths())}")
        if sep or path in task.test_files:
            return "pytest", [path + sep + test]
        if not path.endswith(".py"):
            raise ToolError(f"{path} is not a Python file to run")
        return "python", [path]
