"""What an agent is to the loop: given the conversation so far, one assistant turn."""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS


@dataclass
class Usage:
    """Tokens an agent spent (LLM agents; zero for scripted ones)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass
class Turn:
    """One assistant turn.

    ``tool_calls`` are in the OpenAI format (``{id, type, function: {name,
    arguments}}``, arguments a JSON string); the loop runs the first one.
    ``feedback`` says why no tool call could be read from the reply (the loop
    tells the model); ``stop`` ends the episode without acting.
    """

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str | None = None
    usage: Usage = field(default_factory=Usage)
    feedback: str = ""
    stop: bool = False

    def message(self) -> dict[str, Any]:
        """The assistant message of the trajectory."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message


def tool_call(call_id: str, name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    """An OpenAI-format tool call; ``arguments`` as given if a string (even malformed JSON)."""
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


class Agent(abc.ABC):
    """Plays episodes of a PDBEnv through tool calls.

    ``tools`` names the env tools the agent uses (the env is made with them);
    ``model`` names what produces the turns (an LLM, ``scripted``, ``human``).
    One agent plays one episode at a time: parallel evaluation makes one per
    worker.
    """

    name: ClassVar[str]
    tools: tuple[str, ...] = DEFAULT_TOOLS
    model: str = ""
    enable_thinking: bool = False

    @abc.abstractmethod
    def system_prompt(self) -> str:
        """The system message of every episode."""

    def reset(self, task: Task, observation: str) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """A new episode begins on ``task``; ``observation`` is its prompt."""

    def attach(self, env: Any) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """The episode's env (a ``PDBEnv``), before the first turn: an agent with a subagent attaches it there."""

    @abc.abstractmethod
    def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Turn:
        """The next turn, given the trajectory so far and the tool schemas."""

    def close(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release what the agent holds (HTTP clients)."""
