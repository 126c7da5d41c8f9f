"""Re-run a trajectory's tool calls in a fresh env and report the steps whose observation differs.

For determinism checks, and to vet trajectories made elsewhere. Values that
legitimately change from run to run (object addresses, pytest's timings) are
masked unless ``exact``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym

import gym_pdb  # noqa: F401  (registers the environments)
from gym_pdb.agents.prompts import NOT_EXECUTED
from gym_pdb.tasks.registry import TASK_SOURCES
from gym_pdb.tools import TOOLS

VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]{4,}"), "0x?"),
    (re.compile(r"\bin \d+(?:\.\d+)?s\b"), "in ?s"),
    (re.compile(r"\b\d+\.\d+s\b"), "?s"),
]


@dataclass
class StepDiff:
    step: int
    call: str
    expected: str
    actual: str

    def diff(self, context: int = 2) -> str:
        return "\n".join(
            difflib.unified_diff(
                self.expected.splitlines(), self.actual.splitlines(), "recorded", "replayed", n=context, lineterm=""
            )
        )


@dataclass
class ReplayReport:
    task_id: str
    env_id: str
    steps: int = 0
    diffs: list[StepDiff] = field(default_factory=list)
    prompt_differs: bool = False
    recorded_resolved: bool | None = None
    replayed_resolved: bool = False

    @property
    def ok(self) -> bool:
        return not self.diffs and not self.prompt_differs


def env_id_of(row: dict[str, Any]) -> str:
    """The env a trajectory ran in: its ``env_id``, else the task source whose folder (or name) is its ``suite``."""
    if row.get("env_id"):
        return str(row["env_id"])
    suite = row.get("suite") or ""
    for spec in TASK_SOURCES.values():
        if not spec.from_data_dir and suite in (spec.folder, spec.name):
            return spec.env_id
    raise ValueError(f"cannot tell the env of suite {suite!r}: pass --env (and --data-dir for PDB-Custom-v0)")


def normalize(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def replay(
    row: dict[str, Any],
    env_id: str | None = None,
    make_env: Callable[..., gym.Env] | None = None,
    exact: bool = False,
    task_id: str | None = None,
    **env_kwargs: Any,
) -> ReplayReport:
    """Replay ``row`` (a trajectory) in a fresh env; ``env_kwargs`` go to ``gymnasium.make``.

    ``task_id`` names the task when the row does not (SWE-PDB's SFT rows carry none).
    """
    messages = row["messages"]
    env_id = env_id or env_id_of(row)
    tool_names = [t.get("function", t).get("name") for t in row.get("tools") or []]
    if tool_names and all(name in TOOLS for name in tool_names):
        env_kwargs.setdefault("tools", tool_names)
    calls = sum(1 for m in messages if m.get("role") == "assistant" and m.get("tool_calls"))
    env = (make_env or gym.make)(env_id, max_episode_steps=calls + 1, **env_kwargs)
    same: Callable[[str, str], bool] = (lambda a, b: a == b) if exact else (lambda a, b: normalize(a) == normalize(b))
    task_id = task_id or str(row.get("task_id") or "")
    report = ReplayReport(task_id=task_id, env_id=env_id, recorded_resolved=row.get("resolved"))
    try:
        observation, info = env.reset(options={"task_id": report.task_id})
        if env_kwargs.get("profile") == "swe-pdb" and not exact:
            same = swe_pdb_same(env)
        first_user = next((m for m in messages if m.get("role") == "user"), None)
        if first_user is not None and not same(first_user.get("content") or "", observation):
            report.prompt_differs = True
        answers = {m.get("tool_call_id"): m.get("content") or "" for m in messages if m.get("role") == "tool"}
        for message in messages:
            if message.get("role") != "assistant" or not message.get("tool_calls"):
                continue
            first, *rest = message["tool_calls"]
            function = first.get("function", {})
            arguments = function.get("arguments", "")
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            report.steps += 1
            observation, _, terminated, truncated, info = env.step(
                {"name": function.get("name", ""), "arguments": arguments}
            )
            expected = answers.get(first.get("id"))
            if expected is not None and not same(expected, observation):
                report.diffs.append(
                    StepDiff(report.steps, f"{function.get('name')} {arguments}", expected, observation)
                )
            for extra in rest:
                recorded = answers.get(extra.get("id"))
                if recorded is not None and recorded != NOT_EXECUTED:
                    report.diffs.append(StepDiff(report.steps, "(a second call of the turn)", recorded, NOT_EXECUTED))
            report.replayed_resolved = bool(info.get("resolved"))
            if terminated or truncated:
                break
    finally:
        env.close()
    return report


def swe_pdb_same(env: gym.Env) -> Callable[[str, str], bool]:
    """Recorded (SWE-PDB's) and replayed observations compared after the `swe-pdb` profile's normalisations."""
    from gym_pdb.profiles.swe_pdb.normalize import normalize as swe_normalize
    from gym_pdb.profiles.swe_pdb.normalize import normalize_recorded

    sandbox = getattr(env.unwrapped, "sandbox", None)
    workdir = sandbox.info.workdir if sandbox is not None else ""
    return lambda recorded, replayed: normalize_recorded(recorded) == swe_normalize(replayed, workdir)
