"""Per-turn records of an episode: what each turn did, as data rather than text.

The trajectory keeps the conversation (the SFT format, which stays as it is);
these records keep the facts beside it: the tool and its arguments, how long
the model and the tool took, tokens, the current frame and breakpoints after
the step, the per-test results of an eval, and the env's integrity verdict
when it gives one. The viewer reads them, so it never has to parse an
observation to know where pdb stopped or which test failed.

One record per assistant turn (``turn``, 1-based), pointing into the
trajectory's ``messages`` by index (``message``: the assistant turn,
``observation``: the tool message or the user's feedback). A tool that runs a
subagent may put its conversation in ``info["subagent"]``
(``{"messages": [...]}``); it is kept in the record.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gym_pdb.agents.base import Usage

STEP_LOG_VERSION = 1
BREAKPOINT = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?: if (?P<cond>.*))?$")  # tools.pdb.breakpoints_info
INFO_KEYS = ("eval", "integrity", "subagent")  # kept as the env gives them, when present


def turn_record(turn: int, message: int, agent_time: float, usage: Usage) -> dict[str, Any]:
    """The record of an assistant turn, before its tool call runs."""
    record: dict[str, Any] = {"turn": turn, "message": message, "agent_time": round(agent_time, 4)}
    if usage.prompt_tokens or usage.completion_tokens:
        record["tokens"] = {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens}
    return record


def add_step(
    record: dict[str, Any],
    action: dict[str, Any],
    info: dict[str, Any],
    reward: float,
    env_time: float,
    observation: int,
) -> None:
    """Complete ``record`` with the env step its tool call made (``info`` as ``PDBEnv.step`` returned it)."""
    record.update(
        step=info.get("step"),
        tool=info.get("tool") or action.get("name", ""),
        arguments=_arguments(action.get("arguments")),
        parse_error=info.get("parse_error", ""),
        observation=observation,
        elapsed=info.get("elapsed", 0.0),
        env_time=round(env_time, 4),
        reward=float(reward),
        tests_passed=info.get("tests_passed", -1),
        tests_total=info.get("tests_total", -1),
        resolved=bool(info.get("resolved")),
        frame=info.get("frame"),
        breakpoints=[parse_breakpoint(b) for b in info.get("breakpoints") or []],
    )
    for key in INFO_KEYS:
        if info.get(key) is not None:
            record[key] = info[key]


def parse_breakpoint(text: str) -> dict[str, Any]:
    """``"solution.py:12 if x > 3"`` -> ``{"file": "solution.py", "line": 12, "cond": "x > 3"}``."""
    match = BREAKPOINT.match(text)
    if not match:
        return {"file": text, "line": 0, "cond": None}
    return {"file": match["file"], "line": int(match["line"]), "cond": match["cond"]}


def _arguments(arguments: Any) -> Any:
    """The call's arguments as an object when they are JSON, else as given (a malformed call is shown as is)."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return arguments
    return arguments if arguments is not None else {}
