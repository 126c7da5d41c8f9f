"""The view tool: show a file, with line numbers and breakpoints."""

from __future__ import annotations

from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext, Workspace
from gym_pdb.tools.grammar import CommandLine, LineRange, Word
from gym_pdb.tools.listdir import render_tree
from gym_pdb.tools.registry import register_tool


@register_tool
class ViewTool(Tool):
    name = "view"
    description = (
        "Show a file, or lines start..end of it (1-based, inclusive), with line numbers and "
        "breakpoints ('B') unless include_line_numbers_and_breakpoints is false. A folder is shown as a tree."
    )
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "The file to show, relative to the workspace."},
            "start": {"type": "integer", "description": "First line to show (1-based)."},
            "end": {"type": "integer", "description": "Last line to show (inclusive)."},
            "include_line_numbers_and_breakpoints": {
                "type": "boolean",
                "description": "Prefix lines with their number and a 'B' where a breakpoint is (default true).",
            },
        },
        "required": ["path"],
    }
    command_line = CommandLine(Word("path"), LineRange())

    def __call__(
        self,
        ctx: ToolContext,
        path: str,
        start: int | None = None,
        end: int | None = None,
        include_line_numbers_and_breakpoints: bool = True,
    ) -> ToolResult:
        ws = ctx.workspace
        try:
            path = ws.check_path(path)
            folder = folder_paths(ws, path)
            if folder:
                # A folder is shown as listdir shows it: what an agent that views "." wants to know.
                prefix = "" if path == "." else path.rstrip("/") + "/"
                return ToolResult(f"{path} is a folder; its files:\n{render_tree(ws, folder, prefix, depth=2)}")
            text = ws.read(path)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        lines = text.splitlines()
        total = len(lines)
        start = max(1, start or 1)
        end = min(total, end if end is not None else total)
        if total and start > total:
            raise ToolError(f"{path} has {total} lines; start {start} is past its end")
        limit = ctx.settings.view_max_lines
        cut = end - start + 1 > limit
        if cut:
            end = start + limit - 1
        breaks = {bp.line for bp in ctx.session.breakpoints if bp.file == path}
        shown = []
        for n in range(start, end + 1):
            line = lines[n - 1]
            shown.append(f"{n:4d} {'B' if n in breaks else ' '} {line}" if include_line_numbers_and_breakpoints else line)
        head = f"{path} ({total} lines" + ("" if ctx.workspace.editable(path) else ", read-only") + ")"
        if (start, end) != (1, total):
            head += f", lines {start}..{end}"
        body = "\n".join(shown) if shown else "(empty file)"
        tail = f"\n... {total - end} more lines; view {path} {end + 1} {min(total, end + limit)}" if cut else ""
        return ToolResult(f"{head}:\n{body}{tail}")


def folder_paths(ws: Workspace, path: str) -> list[str]:
    """The visible files under ``path`` when it names a folder (``.`` is the workspace); empty for a file."""
    if path in ws.files:
        return []
    prefix = "" if path == "." else path.rstrip("/") + "/"
    return [p for p in ws.visible_paths() if p.startswith(prefix)]
