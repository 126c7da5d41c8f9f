"""An agent whose turns come from a chat model."""

from __future__ import annotations

from typing import Any

from gym_pdb.agents.base import Agent, Turn, tool_call
from gym_pdb.agents.context import estimate_tokens, fit_context
from gym_pdb.agents.llm import ChatClient, Completion, LLMConfig
from gym_pdb.agents.tool_parsing import parse_tool_calls, split_thinking
from gym_pdb.tasks.task import Task

REPLY_RESERVE = 4096


class LLMAgent(Agent):
    """Asks a chat model for each turn; the subclasses set the prompt and tools.

    ``system_prompt`` replaces the subclass's prompt (a model fine-tuned with another one is run with it).
    """

    name = "llm_agent"
    prompt = ""

    def __init__(self, llm: LLMConfig | ChatClient | None = None, system_prompt: str | None = None):
        if system_prompt is not None:
            self.prompt = system_prompt
        self.client = llm if isinstance(llm, ChatClient) else ChatClient(llm or LLMConfig())
        self.config = self.client.config
        self.enable_thinking = bool(self.config.enable_thinking)
        self._calls = 0
        self._scale = 1.0  # the server's prompt tokens over our estimate, from the last reply

    @property
    def model(self) -> str:  # type: ignore[override]
        return self.client.model

    def system_prompt(self) -> str:
        return self.prompt

    def reset(self, task: Task, observation: str) -> None:
        self._calls = 0

    def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Turn:
        request, estimate = self._fit(messages, tools)
        completion = self.client.complete(request, tools)
        if completion.usage.prompt_tokens and estimate:
            self._scale = min(4.0, max(0.25, completion.usage.prompt_tokens / estimate))
        return self._turn(completion)

    def close(self) -> None:
        self.client.close()

    def _fit(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        cfg = self.config

        def count(msgs: list[dict[str, Any]]) -> int:
            return int(estimate_tokens(msgs, tools, cfg.chars_per_token) * self._scale)

        if not cfg.context_tokens:
            return messages, estimate_tokens(messages, tools, cfg.chars_per_token)
        budget = cfg.context_tokens - (cfg.max_tokens or REPLY_RESERVE)
        fitted, _ = fit_context(messages, budget, count)
        return fitted, estimate_tokens(fitted, tools, cfg.chars_per_token)

    def _turn(self, completion: Completion) -> Turn:
        reasoning, content = split_thinking(completion.content)
        reasoning = completion.reasoning or reasoning
        if completion.tool_calls:
            calls = [self._with_id(c) for c in completion.tool_calls]
            return Turn(content=content, tool_calls=calls, reasoning=reasoning, usage=completion.usage)
        parsed = parse_tool_calls(content)
        calls = [tool_call(self._next_id(), c.name, c.arguments) for c in parsed.calls]
        feedback = ""
        if not calls:
            problems = list(parsed.problems)
            if completion.finish_reason == "length":
                problems.append("The reply was cut at the token limit before any tool call.")
            feedback = " ".join(p[0].upper() + p[1:] + ("" if p.endswith(".") else ".") for p in problems)
        return Turn(
            content=parsed.content, tool_calls=calls, reasoning=reasoning, usage=completion.usage, feedback=feedback
        )

    def _with_id(self, call: dict[str, Any]) -> dict[str, Any]:
        call = dict(call)
        if not call.get("id"):
            call["id"] = self._next_id()
        return call

    def _next_id(self) -> str:
        self._calls += 1
        return f"call_{self._calls:04d}"
