"""The agent loop: one episode of an agent in a PDBEnv, recorded as an OpenAI chat.

Each assistant turn's first tool call is run in the env and answered with a
tool message holding the observation; further calls of the same turn are
answered with "not executed". A turn without a readable tool call is answered
with a user message that says so; ``max_no_call`` of them in a row end the
episode. Errors of the agent (the model server down, out of retries) end the
episode with ``error`` set; they never escape.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, cast

import gymnasium as gym

from gym_pdb.agents.base import Agent, Usage
from gym_pdb.agents.llm import LLMError
from gym_pdb.agents.prompts import NOT_EXECUTED, no_tool_call_message
from gym_pdb.agents.steps import add_step, turn_record

if TYPE_CHECKING:
    from gym_pdb.env import PDBEnv


@dataclass
class Episode:
    """What happened in one episode, and its trajectory."""

    task_id: str
    suite: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    resolved: bool = False
    reward: float = 0.0
    steps: int = 0
    turns: int = 0
    tool_counts: Counter = field(default_factory=Counter)
    parse_errors: int = 0
    no_tool_calls: int = 0
    tests_passed: int = -1
    tests_total: int = -1
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""
    error: str = ""
    timings: dict[str, float] = field(default_factory=lambda: {"reset": 0.0, "env": 0.0, "agent": 0.0, "wall": 0.0})
    original_files: dict[str, str] = field(default_factory=dict)
    final_files: dict[str, str] = field(default_factory=dict)
    gold_files: dict[str, str] | None = None  # the task's known fix (changed files), if any
    step_log: list[dict[str, Any]] = field(default_factory=list)  # one record per turn (agents.steps)
    #: The debug tool's subagent conversations (``info["subagent"]``), each with the main turn that asked.
    subagents: list[dict[str, Any]] = field(default_factory=list)


def run_episode(
    env: gym.Env,
    agent: Agent,
    task_id: str | None = None,
    max_steps: int = 50,
    seed: int | None = None,
    max_no_call: int = 3,
    on_turn: Callable[[Episode], None] | None = None,
    hide_locked: bool = False,
) -> Episode:
    """Play one episode of ``agent`` on ``env`` (the task ``task_id``, else one drawn with ``seed``).

    ``hide_locked``: each turn offers the agent only the tools the env's tool
    schedule has unlocked (as debug-gym's ``debug(N)``); the trajectory's
    ``tools`` keeps them all, and each step record the tools offered at it.
    """
    start = time.perf_counter()
    pdb_env = _pdb_env(env)
    options = {"task_id": task_id} if task_id is not None else None
    episode = Episode(task_id=task_id or "", suite="")
    try:
        observation, _ = env.reset(seed=seed, options=options)
    except Exception as exc:  # noqa: BLE001 - a broken task or sandbox is this episode's error
        episode.error = f"reset failed: {type(exc).__name__}: {exc}"
        episode.stop_reason = "error"
        episode.timings["wall"] = time.perf_counter() - start
        return episode
    episode.timings["reset"] = time.perf_counter() - start
    task = pdb_env.task
    assert task is not None, "reset() sets the episode's task"
    episode.task_id, episode.suite = task.id, task.suite
    episode.original_files = dict(task.files)
    episode.gold_files = dict(task.gold_files) if task.gold_files else None
    episode.tools = pdb_env.tools_schema()
    try:
        episode.messages = [
            {"role": "system", "content": system_message(pdb_env, agent)},
            {"role": "user", "content": observation},
        ]
        agent.reset(task, observation)
        agent.attach(pdb_env)
        _play(env, agent, episode, max_steps, max_no_call, on_turn, hide_locked)
    except LLMError as exc:
        episode.error, episode.stop_reason = f"model: {exc}", "error"
    except Exception as exc:  # noqa: BLE001 - the run goes on with the next task
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        episode.error = f"{type(exc).__name__}: {exc} ({frame.filename}:{frame.lineno})"
        episode.stop_reason = "error"
    episode.final_files = workspace_files(env)
    episode.timings["wall"] = time.perf_counter() - start
    return episode


def system_message(env: PDBEnv, agent: Agent) -> str:
    """The env's profile's system prompt for ``agent`` where it has one (``swe-pdb``: SWE-PDB's), else the agent's."""
    profile_prompt = getattr(env, "system_prompt", None)  # a remote env has no profile
    prompt = profile_prompt(agent.name) if profile_prompt is not None else None
    return prompt if prompt is not None else agent.system_prompt()


def _pdb_env(env: gym.Env) -> PDBEnv:
    """The gym-pdb environment under ``env``'s wrappers (the loop plays only those)."""
    return cast("PDBEnv", env.unwrapped)


def _play(
    env: gym.Env,
    agent: Agent,
    episode: Episode,
    max_steps: int,
    max_no_call: int,
    on_turn: Callable[[Episode], None] | None,
    hide_locked: bool = False,
) -> None:
    messages = episode.messages
    pdb_env = _pdb_env(env)
    scheduled = getattr(pdb_env, "tool_schedule", None) is not None  # a remote env has none
    silent = 0
    while episode.turns < max_steps:
        tools = pdb_env.tools_schema(available_only=True) if hide_locked else episode.tools
        tick = time.perf_counter()
        turn = agent.act(messages, tools)
        agent_time = time.perf_counter() - tick
        episode.timings["agent"] += agent_time
        episode.usage.add(turn.usage)
        if turn.stop:
            if turn.content:
                messages.append({"role": "assistant", "content": turn.content})
            episode.stop_reason = "agent_stopped"
            return
        episode.turns += 1
        messages.append(turn.message())
        record = turn_record(episode.turns, len(messages) - 1, agent_time, turn.usage)
        if scheduled:
            record["tools_offered"] = [t["function"]["name"] for t in tools]
        episode.step_log.append(record)
        if not turn.tool_calls:
            episode.no_tool_calls += 1
            silent += 1
            messages.append({"role": "user", "content": no_tool_call_message(turn.feedback)})
            record["observation"] = len(messages) - 1
            if on_turn:
                on_turn(episode)
            if silent >= max_no_call:
                episode.stop_reason = "no_tool_call"
                return
            continue
        silent = 0
        first, *rest = turn.tool_calls
        function = first.get("function", {})
        action = {"name": function.get("name", ""), "arguments": function.get("arguments", "")}
        tick = time.perf_counter()
        observation, reward, terminated, truncated, info = env.step(action)
        env_time = time.perf_counter() - tick
        episode.timings["env"] += env_time
        episode.steps += 1
        episode.reward += float(reward)
        if info.get("parse_error"):
            episode.parse_errors += 1
        else:
            episode.tool_counts[info.get("tool") or action["name"]] += 1
        episode.tests_passed, episode.tests_total = info.get("tests_passed", -1), info.get("tests_total", -1)
        episode.resolved = bool(info.get("resolved"))
        messages.append(_tool_message(first, observation))
        add_step(record, action, info, float(reward), env_time, len(messages) - 1)
        if isinstance(info.get("subagent"), dict):
            episode.subagents.append({"turn": episode.turns, "tool_call_id": first.get("id", ""), **info["subagent"]})
        messages.extend(_tool_message(call, NOT_EXECUTED) for call in rest)
        if on_turn:
            on_turn(episode)
        if terminated or truncated:
            episode.stop_reason = "resolved" if episode.resolved else ("submitted" if terminated else "max_steps")
            return
    episode.stop_reason = "max_steps"


def _tool_message(call: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "role": "tool",
        "tool_call_id": call.get("id", ""),
        "name": call.get("function", {}).get("name", ""),
        "content": content,
    }


def workspace_files(env: gym.Env) -> dict[str, str]:
    """The text of the episode's files now (the agent's edits included)."""
    return _pdb_env(env).workspace_files()
