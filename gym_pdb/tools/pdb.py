"""The pdb tool: one persistent debugger per episode."""

from __future__ import annotations

import re
from typing import Any

from gym_pdb.sandbox.session import PdbReply
from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.def_lines import refusal
from gym_pdb.tools.grammar import CommandLine, Form, Keyword, Rest, Word
from gym_pdb.tools.registry import register_tool

#: The driver reads its commands with universal newlines: each of these ends one command.
LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: pdb's commands: typed without ``pdb`` in front, the parser suggests ``pdb ...``.
PDB_WORDS = frozenset({
    "b", "break", "tbreak", "c", "cont", "continue", "n", "next", "s", "step", "r", "return", "p", "pp", "l",
    "list", "ll", "longlist", "w", "where", "bt", "u", "up", "d", "down", "a", "args", "cl", "clear", "q",
    "quit", "j", "jump", "until", "unt", "display", "undisplay", "whatis", "disable", "enable", "condition",
    "ignore", "commands", "retval", "rv", "source", "restart", "run", "!", "start",
})  # fmt: skip


@register_tool
class PdbTool(Tool):
    name = "pdb"
    description = (
        "Run a command in the Python debugger (pdb). The session persists across calls.\n"
        "Start it with command='start', runner='pytest' and file='test.py' or 'test.py::test_name' "
        "(stops at the start of each test), or runner='python' and the program's file. Then use pdb "
        "commands: 'b file.py:LINE' (breakpoint, optionally with a condition), 'c' (continue), 'n', 's', "
        "'r', 'p EXPR', 'pp EXPR', 'l', 'll', 'w', 'a', 'cl NUMBER', 'q' (restart). Breakpoints are kept "
        "across rewrites and restarts. Each reply shows the output and the current frame."
    )
    parameters = {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "A pdb command, or 'start' to (re)start the session."},
            "runner": {
                "type": "string",
                "enum": ["pytest", "python"],
                "description": "With command='start': run the tests under pytest, or the file under python.",
            },
            "file": {
                "type": "string",
                "description": "With command='start': the file to run, e.g. 'test.py' or 'test.py::test_name'.",
            },
        },
        "required": ["command"],
    }
    command_line = CommandLine(
        Form(Keyword("start", "command"), Word("runner"), Word("file")),
        Form(Rest("command")),
        usage="pdb start [pytest|python] [FILE[::TEST]]  |  pdb COMMAND (e.g. pdb b solution.py:12, pdb p x)",
        hint_words=PDB_WORDS,
        hint="To send it to the debugger",
    )

    def __call__(self, ctx: ToolContext, command: str, runner: str | None = None, file: str | None = None) -> ToolResult:
        command = command.strip()
        session = ctx.session
        if command.split(maxsplit=1)[:1] == ["start"] or runner is not None or file is not None:
            if command != "start" and not command.startswith("start "):
                raise ToolError("runner and file go with command='start'")
            rest = command.split()[1:]
            if rest and rest[0] in ("pytest", "python") and runner is None:
                runner = rest.pop(0)
            if rest and file is None:
                file = rest.pop(0)
            runner, target = self._target(ctx, runner, file)
            reply = session.start(runner, target)
            head = f"Started pdb (runner: {runner}, file: {target})."
            return ToolResult(format_reply(reply, head))
        if LINE_BREAK.search(command):
            lines = [line for line in LINE_BREAK.split(command) if line.strip()]
        else:
            lines = [command]
        if not session.active and not session.target:
            runner, target = self._target(ctx, None, None)
            session.runner, session.target = runner, target
        parts: list[str] = []
        for line in lines:
            frame = session.frame
            refused = refusal(line, ctx.workspace.files, frame.file if frame else None)
            if refused:
                parts.append(f"(Pdb) {line}\n{refused}" if len(lines) > 1 else refused)
                continue
            reply = session.command(line)
            parts.append(format_reply(reply, f"(Pdb) {line}" if len(lines) > 1 else ""))
        return ToolResult("\n".join(parts))

    @staticmethod
    def _target(ctx: ToolContext, runner: str | None, file: str | None) -> tuple[str, str]:
        task = ctx.task
        runner = (runner or "pytest").lower()
        if runner not in ("pytest", "python"):
            raise ToolError(f"runner must be 'pytest' or 'python', not {runner!r}")
        if not file:
            file = task.test_files[0] if runner == "pytest" else task.entrypoint
        path, sep, test = file.partition("::")
        try:
            path = ctx.workspace.check_path(path)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if not ctx.workspace.exists(path):
            raise ToolError(f"no file {path!r} to run; files: {', '.join(ctx.workspace.visible_paths())}")
        return runner, path + sep + test


def format_reply(reply: PdbReply, head: str = "") -> str:
    """A pdb reply as the agent reads it: notes, output, how the program ended, and where it stands."""
    parts = [head] if head else []
    parts.extend(reply.notes)
    output = reply.output.strip("\n")
    if output:
        parts.append(output)
    if reply.ended:
        parts.append(reply.ended)
    frame = reply.frame
    if frame is not None:
        where = "Post-mortem frame" if frame.post_mortem else "Current frame"
        parts.append(f"{where}: {frame.file}:{frame.line} in {frame.function}()")
        if frame.listing:
            parts.append(frame.listing)
    elif not reply.ended:
        parts.append("No current frame.")
    return "\n".join(parts)


def breakpoints_info(ctx: ToolContext) -> list[str]:
    """The breakpoints as ``file:line [if cond]`` (``info["breakpoints"]``)."""
    return [f"{bp.file}:{bp.line}" + (f" if {bp.cond}" if bp.cond else "") for bp in ctx.session.breakpoints]


def frame_info(ctx: ToolContext) -> str:
    """The current frame as ``file:line in function()`` (``info["current_frame"]``), empty without one."""
    frame = ctx.session.frame
    return f"{frame.file}:{frame.line} in {frame.function}()" if frame else ""


def frame_detail(ctx: ToolContext) -> dict[str, Any] | None:
    """The current frame as plain data (``info["frame"]``), with the listing the reply showed and its first line."""
    frame = ctx.session.frame
    if frame is None:
        return None
    first = frame.listing.split(None, 1)[:1]  # the driver writes "%4d" first on each listing line
    return {
        "file": frame.file,
        "line": frame.line,
        "function": frame.function,
        "post_mortem": frame.post_mortem,
        "listing": frame.listing,
        "first_line": int(first[0]) if first and first[0].isdigit() else frame.line,
    }
