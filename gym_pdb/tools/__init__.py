"""The agent's tools: one module each, registered in :data:`TOOLS` (see :mod:`gym_pdb.tools.registry`).

Importing a tool's module registers it; the imports below are the built-in
tools' registration lines. A new tool is one module here plus its line below.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext, ToolSettings, Workspace

# The built-in tools: each module registers its tools on import.
from gym_pdb.tools.debug import DebugTool
from gym_pdb.tools.eval import EvalTool, SubmitTool
from gym_pdb.tools.grep import GrepTool
from gym_pdb.tools.listdir import ListdirTool
from gym_pdb.tools.pdb import PdbTool
from gym_pdb.tools.registry import TOOLS, ToolRegistry, register_tool
from gym_pdb.tools.rewrite import RewriteTool
from gym_pdb.tools.trace import TraceTool
from gym_pdb.tools.view import ViewTool

#: The tools an env, an agent and the GRPO trainer offer unless told otherwise.
DEFAULT_TOOLS = ("pdb", "rewrite", "view", "eval", "grep", "listdir")
#: The rewrite-only baseline: every default tool but pdb.
REWRITE_ONLY_TOOLS = tuple(name for name in DEFAULT_TOOLS if name != "pdb")


def make_tools(names: Iterable[str] = DEFAULT_TOOLS) -> dict[str, Tool]:
    """Instances of the named registered tools (raises ValueError for an unknown name)."""
    return TOOLS.make(names)


def tools_schema(names: Iterable[str] = DEFAULT_TOOLS) -> list[dict[str, Any]]:
    """OpenAI-format function schemas of the named tools."""
    return TOOLS.schemas(names)


__all__ = [
    "DEFAULT_TOOLS", "REWRITE_ONLY_TOOLS", "TOOLS", "DebugTool", "EvalTool", "GrepTool", "ListdirTool", "PdbTool", "RewriteTool",
    "SubmitTool", "Tool", "ToolContext", "ToolError", "ToolRegistry", "ToolResult", "ToolSettings", "TraceTool", "ViewTool",
    "Workspace", "make_tools", "register_tool", "tools_schema",
]  # fmt: skip
