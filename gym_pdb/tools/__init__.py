"""The agent's tools, one module each, and their OpenAI-format schemas."""

from __future__ import annotations

from typing import Any, Iterable

from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext, ToolSettings, Workspace
from gym_pdb.tools.eval import EvalTool, SubmitTool
from gym_pdb.tools.grep import GrepTool
from gym_pdb.tools.listdir import ListdirTool
from gym_pdb.tools.pdb import PdbTool
from gym_pdb.tools.rewrite import RewriteTool
from gym_pdb.tools.view import ViewTool

TOOL_CLASSES: dict[str, type[Tool]] = {
    cls.name: cls for cls in (PdbTool, RewriteTool, ViewTool, EvalTool, GrepTool, ListdirTool, SubmitTool)
}
DEFAULT_TOOLS = ("pdb", "rewrite", "view", "eval", "grep", "listdir")
REWRITE_ONLY_TOOLS = ("rewrite", "view", "eval", "grep", "listdir")


def make_tools(names: Iterable[str] = DEFAULT_TOOLS) -> dict[str, Tool]:
    tools = {}
    for name in names:
        if name not in TOOL_CLASSES:
            raise ValueError(f"unknown tool {name!r}; tools: {', '.join(TOOL_CLASSES)}")
        tools[name] = TOOL_CLASSES[name]()
    return tools


def tools_schema(names: Iterable[str] = DEFAULT_TOOLS) -> list[dict[str, Any]]:
    """OpenAI-format function schemas of the named tools."""
    return [tool.schema() for tool in make_tools(names).values()]


__all__ = [
    "DEFAULT_TOOLS", "REWRITE_ONLY_TOOLS", "TOOL_CLASSES", "Tool", "ToolContext", "ToolError", "ToolResult",
    "ToolSettings", "Workspace", "make_tools", "tools_schema",
]  # fmt: skip
