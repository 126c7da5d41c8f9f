"""The wire types of a served gym-pdb episode: OpenEnv's Action, Observation and State.

A step carries the same action a local :class:`~gym_pdb.env.PDBEnv` takes:
either ``text`` (a command line, or a tool call as JSON) or ``tool`` with
``arguments``. The observation carries what ``env.step`` returns beside the
text: the reward, ``terminated``/``truncated`` (OpenEnv's ``done`` is
either) and ``info`` (integrity included), so a remote env can hand back
exactly what a local one would.
"""

from __future__ import annotations

from typing import Any

from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

#: What a client may set for its session's env at reset (the rest is the server's to decide).
CLIENT_CONFIG_KEYS = (
    "tools",
    "reward_mode",
    "integrity",
    "pdb_timeout",
    "test_timeout",
    "eval_timeout",
    "max_observation_chars",
)


class PDBAction(Action):
    """One tool call: ``text`` as ``env.step`` takes it, or ``tool`` and ``arguments``."""

    text: str | None = Field(default=None, description="A command line or a JSON tool call, as env.step takes it.")
    tool: str | None = Field(default=None, description="A tool name (pdb, rewrite, view, eval, grep, listdir).")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments (with `tool`).")

    @model_validator(mode="after")
    def _one_form(self) -> PDBAction:
        if (self.text is None) == (self.tool is None):
            # A PydanticCustomError: its error details serialise (OpenEnv sends them to the client).
            raise PydanticCustomError(
                "action_form", "give either `text` (a command line or JSON tool call) or `tool` with `arguments`"
            )
        return self

    def to_env_action(self) -> str | dict[str, Any]:
        """The action as ``PDBEnv.step`` takes it."""
        return self.text if self.text is not None else {"name": self.tool, "arguments": self.arguments}


class PDBObservation(Observation):
    """What ``env.reset``/``env.step`` returned: the text, the step's outcome and ``info``."""

    text: str = Field(default="", description="The observation text (the task prompt after reset).")
    terminated: bool = Field(default=False, description="All tests pass (or submit).")
    truncated: bool = Field(default=False, description="Cut by the server (never by the step limit: clients apply it).")
    info: dict[str, Any] = Field(default_factory=dict, description="env.step's info: task_id, tests, integrity...")
    env_id: str = Field(default="", description="The environment id this server serves.")
    tools: list[dict[str, Any]] | None = Field(default=None, description="The session's tool schemas (after reset).")


class PDBState(State):
    """The session's episode: which task, how far, the last verdict."""

    env_id: str = ""
    task_id: str | None = None
    suite: str | None = None
    resolved: bool = False
    progress: float = Field(default=0.0, description="1.0 if resolved, else the fraction passing (verdict.reward)")
    tests_passed: int = -1
    tests_total: int = -1
    config: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict, description="The episode's files now, edits included.")


__all__ = ["CLIENT_CONFIG_KEYS", "PDBAction", "PDBObservation", "PDBState"]
