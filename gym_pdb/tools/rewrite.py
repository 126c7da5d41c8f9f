"""The rewrite tool: replace lines of a file (or all of it), shown as a diff."""

from __future__ import annotations

import difflib

from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.grammar import Code, CommandLine, LineRange, Word
from gym_pdb.tools.registry import register_tool

DIFF_LINES = 60


@register_tool
class RewriteTool(Tool):
    name = "rewrite"
    description = (
        "Replace lines start..end (1-based, inclusive) of a file with new_code; without start and end, "
        "replace the whole file. end = start - 1 inserts before line start. Read-only files (the tests) "
        "cannot be changed. The pdb session restarts on the new code, with its breakpoints moved."
    )
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "The file to change, relative to the workspace."},
            "start": {"type": "integer", "description": "First line to replace (1-based)."},
            "end": {"type": "integer", "description": "Last line to replace (inclusive)."},
            "new_code": {"type": "string", "description": "The code that replaces those lines."},
        },
        "required": ["path", "new_code"],
    }
    command_line = CommandLine(
        Word("path"),
        LineRange(),
        Code("new_code"),
        usage="rewrite PATH START:END, then the new code on the following lines (no START:END: whole file)",
    )

    def __call__(
        self, ctx: ToolContext, path: str, new_code: str, start: int | None = None, end: int | None = None
    ) -> ToolResult:
        ws = ctx.workspace
        try:
            path = ws.check_path(path)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if path == "." or path.endswith("/"):
            raise ToolError("path must name a file")
        if not ws.editable(path):
            raise ToolError(f"{path} is read-only: change the program, not the tests")
        old = ws.files.get(path)
        if old is None and (start is not None or end is not None):
            raise ToolError(f"no file {path!r}; give no start/end to create it")
        if old is None:
            try:
                ws.check_new_file(path)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
        old = old or ""
        lines = old.splitlines(keepends=True)
        # Neither: the whole file; one of them: that one line.
        start, end = (
            start if start is not None else (end if end is not None else 1),
            end if end is not None else (start if start is not None else len(lines)),
        )
        if not 1 <= start <= len(lines) + 1 or not start - 1 <= end <= len(lines):
            raise ToolError(
                f"lines {start}..{end} are not in {path}, which has {len(lines)} lines "
                "(use end = start - 1 to insert before start)"
            )
        new_lines = new_code.splitlines(keepends=True)
        if new_lines and not new_lines[-1].endswith("\n") and end < len(lines):
            new_lines[-1] += "\n"
        text = "".join(lines[: start - 1] + new_lines + lines[end:])
        if text == old:
            return ToolResult(f"No change: {path} already has that code.")
        try:
            ws.write(path, text)
        except ValueError as exc:
            raise ToolError(str(exc)) from None

        notes = []
        dropped = ctx.session.shift_breakpoints(path, start, end, len(new_lines))
        if dropped:
            notes.append("Breakpoints removed (their lines were rewritten): " + ", ".join(f"{b.file}:{b.line}" for b in dropped))
        if ctx.session.active:
            reply = ctx.session.restart()
            notes.append("The pdb session was restarted on the new code; breakpoints kept." if reply.frame else reply.ended)
        syntax = syntax_error(path, text)
        if syntax:
            notes.append(f"Warning: {path} does not compile now: {syntax}")
        return ToolResult("\n".join([f"Rewrote {path} lines {start}..{end}.", diff(path, old, text), *notes]))


def diff(path: str, old: str, new: str) -> str:
    """A unified diff cut to DIFF_LINES, so a whole-file rewrite does not flood the observation."""
    lines = list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", n=2, lineterm="")
    )
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def syntax_error(path: str, text: str) -> str:
    """Why a Python file does not compile (empty when it does): a rewrite warns at once, not at the next run."""
    if not path.endswith(".py"):
        return ""
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    except ValueError as exc:
        return str(exc)
    return ""
