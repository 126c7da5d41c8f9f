"""gym-pdb's tools as MCP tools: one FastMCP tool per tool schema, the schema unchanged.

The served environment (:mod:`gym_pdb.serve.environment`) and ``gym-pdb mcp``
(:mod:`gym_pdb.serve.project`) both build their MCP server here, from the same
OpenAI-format schemas the env gives agents and TRL (``tools_schema()``), so a
tool means the same thing over MCP, over OpenEnv and in process. A call runs
in a worker thread: tools block on sandbox processes, and the event loop that
serves every session must not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anyio.to_thread
from fastmcp import FastMCP
from fastmcp.tools import Tool, ToolResult
from pydantic import PrivateAttr

#: The result is text; FastMCP clients unwrap ``{"result": ...}`` into ``.data`` (as for a function returning str).
TEXT_RESULT = {
    "type": "object",
    "properties": {"result": {"type": "string"}},
    "required": ["result"],
    "x-fastmcp-wrap-result": True,
}

ToolCall = Callable[[str, dict[str, Any]], str]  # (tool name, arguments) -> observation text


class SchemaTool(Tool):
    """An MCP tool whose input schema is a gym-pdb tool's parameters; ``call`` does the work."""

    _call: ToolCall = PrivateAttr()

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any], call: ToolCall) -> SchemaTool:
        function = schema["function"]
        tool = cls(
            name=function["name"],
            description=function["description"],
            parameters=dict(function["parameters"]),
            output_schema=TEXT_RESULT,
        )
        tool._call = call
        return tool

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        text = await anyio.to_thread.run_sync(self._call, self.name, dict(arguments or {}))
        return ToolResult(content=text, structured_content={"result": text})


def tool_server(
    name: str, schemas: Iterable[Mapping[str, Any]], call: ToolCall, instructions: str | None = None
) -> FastMCP:
    """A FastMCP server with one tool per schema, each calling ``call(name, arguments)``."""
    server = FastMCP(name, instructions=instructions)
    for schema in schemas:
        server.add_tool(SchemaTool.from_schema(schema, call))
    return server


__all__ = ["SchemaTool", "TEXT_RESULT", "tool_server"]
