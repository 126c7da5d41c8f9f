"""The debug tool: hand a question to a debugging subagent, which investigates and answers with its findings.

Debug2Fix found that debugger tools given to the main agent hurt, while a
debugging subagent with a small toolset, called by the main agent, helped.
The subagent is a model, so the agent that holds one attaches it to the env
(``PDBEnv.subagent``, see ``agents/debug_subagent.py``); this tool runs it on
the episode's sandbox with :data:`SUBAGENT_TOOLS` only. Those tools never run
the tests for a verdict (no ``eval``, no ``rewrite``), so nothing the
subagent does pays a reward or changes a file. Its conversation comes back in
``info["subagent"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gym_pdb.sandbox.base import SandboxError
from gym_pdb.tools.base import Tool, ToolError, ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.grammar import CommandLine, Rest
from gym_pdb.tools.registry import TOOLS, register_tool

#: What the subagent may call: it reads and runs, never edits nor judges.
SUBAGENT_TOOLS = ("pdb", "trace", "view")
#: Characters of one subagent tool observation (the main agent's env cuts its own).
SUBAGENT_OBSERVATION_CHARS = 12_000

#: ``call(name, arguments) -> observation``: one of the subagent's tools on the episode.
ToolCaller = Callable[[str, dict[str, Any]], str]
#: ``subagent(question, call, schemas) -> (findings, conversation)``.
Subagent = Callable[[str, ToolCaller, list[dict[str, Any]]], tuple[str, dict[str, Any]]]


def subagent_caller(ctx: ToolContext) -> ToolCaller:
    """Runs the subagent's tool calls on the episode: its tools only, errors as observations."""
    tools = TOOLS.make(SUBAGENT_TOOLS)

    def call(name: str, arguments: dict[str, Any]) -> str:
        tool = tools.get(name)
        if tool is None:
            return f"Error: there is no tool {name!r} here; the tools are {', '.join(SUBAGENT_TOOLS)}."
        try:
            result = tool(ctx, **tool.bind(arguments))
        except ToolError as exc:
            return f"Error: {exc}"
        except SandboxError as exc:
            ctx.session.stop()
            return f"Error: the sandbox failed: {exc}"
        text = result.observation
        if len(text) > SUBAGENT_OBSERVATION_CHARS:
            text = text[:SUBAGENT_OBSERVATION_CHARS] + f"\n... [{len(text) - SUBAGENT_OBSERVATION_CHARS} characters cut]"
        return text

    return call


@register_tool
class DebugTool(Tool):
    name = "debug"
    description = (
        "Ask a debugging subagent a question about the failing behaviour (e.g. 'why does test_x get 3 instead of 2?'). "
        "It investigates with pdb, trace and view on the same workspace, changes nothing, and answers with its findings."
    )
    parameters = {
        "type": "object",
        "properties": {"question": {"type": "string", "description": "What the subagent should find out."}},
        "required": ["question"],
    }
    command_line = CommandLine(Rest("question"), usage="debug QUESTION")

    def __call__(self, ctx: ToolContext, question: str) -> ToolResult:
        subagent = ctx.subagent
        if subagent is None:
            raise ToolError("no debugging subagent is attached to this environment (the debug_subagent agent attaches one)")
        findings, conversation = subagent(question, subagent_caller(ctx), TOOLS.schemas(SUBAGENT_TOOLS))
        return ToolResult(
            f"The debugging subagent's findings:\n{findings.strip() or '(it found nothing to report)'}",
            info={"subagent": conversation},
        )
