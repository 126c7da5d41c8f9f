"""debug_subagent: a main agent with rewrite, view and eval, and a debugging subagent behind its ``debug`` tool.

After Debug2Fix (arXiv 2602.18571): the main agent does not hold the
debugger; it asks ``debug(question)``, and a subagent (the same model unless
``subagent_model`` names another on the same server) investigates with pdb,
trace and view on the same sandbox, within its own step budget, and answers
with its findings, which come back as the tool's observation.

The subagent's conversation goes into the step's ``info["subagent"]``
(``{"question", "messages", "tools", "model", "steps", "usage"}``), which the
loop keeps in the episode's ``subagents`` and the trajectory file under
``subagents`` (see ``trainers.data.subagent_trajectories``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from gym_pdb.agents.base import Usage
from gym_pdb.agents.llm import ChatClient, LLMConfig
from gym_pdb.agents.llm_agent import LLMAgent
from gym_pdb.agents.prompts import NOT_EXECUTED, SUBAGENT_MAIN_PROMPT, SUBAGENT_PROMPT
from gym_pdb.tasks.task import Task
from gym_pdb.tools.debug import ToolCaller

MAIN_TOOLS = ("rewrite", "view", "eval", "debug")
OUT_OF_STEPS = "Your step budget is spent. Reply now with your findings, without calling a tool."


class Subagent(LLMAgent):
    """The debugging subagent: a chat model with pdb, trace and view."""

    name = "subagent"
    prompt = SUBAGENT_PROMPT


class DebugSubagentAgent(LLMAgent):
    """The main agent; its ``debug`` tool runs :class:`Subagent` (see the module's docstring).

    Args:
        llm: the main agent's model (an ``LLMConfig`` or a ``ChatClient``).
        subagent_model: the subagent's model on the same server (default: the main agent's).
        subagent_steps: tool calls the subagent may make per question.
    """

    name = "debug_subagent"
    tools = MAIN_TOOLS
    prompt = SUBAGENT_MAIN_PROMPT

    def __init__(
        self,
        llm: LLMConfig | ChatClient | None = None,
        subagent_model: str | None = None,
        subagent_steps: int = 15,
        system_prompt: str | None = None,
    ):
        super().__init__(llm, system_prompt)
        if subagent_steps < 1:
            raise ValueError("subagent_steps must be at least 1")
        if subagent_model and subagent_model != self.config.model:
            self.subagent = Subagent(replace(self.config, model=subagent_model))
        else:
            self.subagent = Subagent(self.client)
        self.subagent_steps = subagent_steps
        self._task_prompt = ""

    def reset(self, task: Task, observation: str) -> None:
        super().reset(task, observation)
        self._task_prompt = observation

    def attach(self, env: Any) -> None:
        env.subagent = self.investigate

    def close(self) -> None:
        if self.subagent.client is not self.client:
            self.subagent.close()
        super().close()

    def investigate(self, question: str, call: ToolCaller, tools: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        """Run the subagent on ``question``; returns its findings and its conversation."""
        subagent = self.subagent
        subagent.reset(Task(id="", suite="", files={}), question)
        ask = (
            f"{self._task_prompt}\n\nThe main agent, which will fix the bug, asks you:\n{question}\n\n"
            "Investigate with pdb, trace and view (you cannot edit files or run eval), then reply with your "
            "findings, without a tool call."
        )
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": subagent.system_prompt()},
            {"role": "user", "content": ask},
        ]
        usage = Usage()
        findings, steps = "", 0
        while True:
            out_of_steps = steps >= self.subagent_steps
            if out_of_steps:
                messages.append({"role": "user", "content": OUT_OF_STEPS})
            turn = subagent.act(messages, [] if out_of_steps else tools)
            usage.add(turn.usage)
            messages.append(turn.message())
            if not turn.tool_calls or out_of_steps:
                findings = turn.content
                break
            first, *rest = turn.tool_calls
            function = first.get("function", {})
            steps += 1
            observation = call(function.get("name", ""), _arguments(function.get("arguments")))
            messages.append(
                {"role": "tool", "tool_call_id": first.get("id", ""), "name": function.get("name", ""), "content": observation}
            )
            messages.extend(
                {
                    "role": "tool",
                    "tool_call_id": c.get("id", ""),
                    "name": c.get("function", {}).get("name", ""),
                    "content": NOT_EXECUTED,
                }
                for c in rest
            )
        conversation = {
            "question": question,
            "messages": messages,
            "tools": tools,
            "model": subagent.model,
            "enable_thinking": subagent.enable_thinking,
            "steps": steps,
            "usage": {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens},
        }
        return findings, conversation


def _arguments(arguments: Any) -> dict[str, Any]:
    """A tool call's arguments as a dict (a malformed JSON string gives none: the tool says what it needs)."""
    if isinstance(arguments, dict):
        return arguments
    try:
        value = json.loads(arguments) if isinstance(arguments, str) and arguments.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
