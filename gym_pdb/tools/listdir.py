"""The listdir tool: the workspace's visible files as a tree."""

from __future__ import annotations

from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext, Workspace
from gym_pdb.tools.registry import register_tool


@register_tool
class ListdirTool(Tool):
    name = "listdir"
    description = "List the files of the workspace (or of a folder in it), down to a depth (default 2)."
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "The folder to list (default: the workspace)."},
            "depth": {"type": "integer", "description": "How many folder levels to show (default 2)."},
        },
    }

    def __call__(self, ctx: ToolContext, path: str | None = None, depth: int | None = None) -> ToolResult:
        ws = ctx.workspace
        try:
            scope = ws.check_path(path or ".")
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        depth = max(1, depth or 2)
        prefix = "" if scope == "." else scope.rstrip("/") + "/"
        paths = [p for p in ws.visible_paths() if p.startswith(prefix)]
        if not paths:
            raise ToolError(f"no folder {path!r} in the workspace")
        return ToolResult(render_tree(ws, paths, prefix, depth))


def render_tree(ws: Workspace, paths: list[str], prefix: str = "", depth: int = 2) -> str:
    """``paths`` under ``prefix`` as an indented tree ``depth`` levels deep, read-only files marked."""
    lines = [prefix.rstrip("/") or "."]
    shown_dirs: set[str] = set()
    for p in paths:
        parts = p[len(prefix) :].split("/")
        for level in range(min(len(parts) - 1, depth)):
            folder = "/".join(parts[: level + 1])
            if folder not in shown_dirs:
                shown_dirs.add(folder)
                lines.append("  " * (level + 1) + parts[level] + "/")
        if len(parts) <= depth:
            mark = "" if ws.editable(p) else " (read-only)"
            lines.append("  " * len(parts) + parts[-1] + mark)
    return "\n".join(lines)
