"""The grep tool: search the visible files for a regular expression."""

from __future__ import annotations

import re

from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.registry import register_tool

LINE_CHARS = 200


@register_tool
class GrepTool(Tool):
    name = "grep"
    description = "Search the files (or one file or folder) for a regular expression; shows file:line: text."
    parameters = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "A Python regular expression (or plain text)."},
            "path": {"type": "string", "description": "A file or folder to search in (default: everything)."},
            "max_results": {"type": "integer", "description": "At most this many matching lines (default 50)."},
        },
        "required": ["pattern"],
    }

    def __call__(
        self, ctx: ToolContext, pattern: str, path: str | None = None, max_results: int | None = None
    ) -> ToolResult:
        note = ""
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            regex = re.compile(re.escape(pattern))
            note = f"(not a valid regular expression: {exc}; searched as plain text)\n"
        ws = ctx.workspace
        scope = "."
        if path:
            try:
                scope = ws.check_path(path)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
        paths = [p for p in ws.visible_paths() if scope == "." or p == scope or p.startswith(scope.rstrip("/") + "/")]
        if not paths:
            raise ToolError(f"no file at {path!r}")
        limit = max(1, min(max_results or ctx.settings.grep_max_results, 1000))
        hits: list[str] = []
        more = 0
        for p in paths:
            for n, line in enumerate(ws.files[p].splitlines(), 1):
                if regex.search(line):
                    if len(hits) < limit:
                        hits.append(f"{p}:{n}: {line[:LINE_CHARS]}")
                    else:
                        more += 1
        if not hits:
            return ToolResult(f"{note}No match for {pattern!r}.")
        tail = f"\n... {more} more matches (raise max_results or narrow the path)" if more else ""
        return ToolResult(note + "\n".join(hits) + tail)
