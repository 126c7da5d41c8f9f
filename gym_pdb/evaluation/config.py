"""The configuration of an evaluation run: a dataclass, a YAML/JSON file, ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gym_pdb.agents.llm import LLMConfig
from gym_pdb.profiles import PROFILE_NAMES
from gym_pdb.sandbox.kinds import sandbox_factory
from gym_pdb.tools.schedule import ToolSchedule

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")


@dataclass
class EvalConfig:
    """What to evaluate and how.

    ``tasks``: None (every task), a count per suite (a seeded sample), or task ids.
    ``llm`` configures the chat model of ``debug_agent`` and ``rewrite_agent``;
    ``remote`` lists ``gym-pdb serve`` servers: each worker's env runs its
    episodes on one of them (spread in turn, moving to the next if one is gone).
    ``env_kwargs`` go to ``gymnasium.make`` (``reward_mode``, ``pdb_timeout``...),
    ``agent_kwargs`` to the agent. ``tool_schedule`` (``"debug(5)"`` or
    ``{"pdb": {"after": {"rewrite": 5}}}``) locks tools until they unlock;
    ``hide_locked`` leaves locked tools out of each turn's tools (else they are
    offered, and a call says when they unlock). ``tools``: the env's tools
    (default: the agent's). ``label``: the run's name in summaries (default:
    the agent's name), to tell apart runs of one agent under several settings.
    """

    env: list[str] = field(default_factory=lambda: ["PDB-Demo-v0"])
    agent: str = "debug_agent"
    tasks: int | list[str] | None = None
    seed: int = 0
    max_steps: int = 50
    n_parallel: int = 1
    sandbox: str | None = None
    profile: str = "gym-pdb"  # what the agent sees: gym-pdb's own or SWE-PDB's (gym_pdb.profiles)
    remote: list[str] = field(default_factory=list)  # gym-pdb serve URLs: the episodes run there
    data_dir: str | None = None
    output: str | None = None
    resume: bool = False
    rerun_failed: bool = False
    llm: LLMConfig = field(default_factory=LLMConfig)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    tool_schedule: str | dict[str, Any] | None = None
    hide_locked: bool = False
    tools: list[str] | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.env, str):
            self.env = [e for e in self.env.split(",") if e]
        if isinstance(self.llm, dict):
            self.llm = from_dict(LLMConfig, self.llm, "llm")
        if isinstance(self.remote, str):
            self.remote = [u for u in self.remote.split(",") if u]
        if isinstance(self.tasks, str):
            self.tasks = parse_tasks([self.tasks])
        if self.n_parallel < 1:
            raise ValueError("n_parallel must be at least 1")
        if self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if self.sandbox is not None:
            sandbox_factory(self.sandbox)  # a registered kind, or a ValueError naming them
        if self.profile not in PROFILE_NAMES:
            raise ValueError(f"profile must be one of {PROFILE_NAMES}, not {self.profile!r}")
        if self.profile != "gym-pdb" and self.remote:
            raise ValueError("a profile other than gym-pdb runs in local envs only, not with remote")
        ToolSchedule.parse(self.tool_schedule)  # a ValueError that says what is wrong with it
        if self.hide_locked and self.tool_schedule is None:
            raise ValueError("hide_locked needs a tool_schedule")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalConfig:
        return from_dict(cls, data)


def from_dict(cls: type[C], data: dict[str, Any], where: str = "config") -> C:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {where} keys: {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    return cls(**data)


def parse_tasks(values: list[str] | None) -> int | list[str] | None:
    """``--tasks 20`` (a count), ``--tasks all``, or task ids (spaces or commas)."""
    if not values:
        return None
    items = [v for value in values for v in str(value).split(",") if v]
    if items == ["all"]:
        return None
    if len(items) == 1 and items[0].isdigit():
        return int(items[0])
    return items


def load_file(path: str | os.PathLike) -> dict[str, Any]:
    """A config file: YAML (needs pyyaml) or JSON."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".json"):
        data = json.loads(text)
    else:
        try:
            import yaml
        except ImportError:
            raise ValueError(f"reading {path} needs pyyaml (pip install pyyaml), or give a .json file") from None
        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file holds a mapping of keys to values")
    return data


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``update``, nested mappings merged key by key."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ("env_kwargs", "agent_kwargs"):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` (``llm.temperature=0.6``, ``env_kwargs.pdb_timeout=5``); values read as YAML."""
    data = json.loads(json.dumps(data))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-p takes key=value, not {item!r}")
        parts = key.strip().split(".")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ValueError(f"-p {item}: {part} is not a mapping")
        target[parts[-1]] = parse_value(raw)
    return data


def parse_value(raw: str) -> Any:
    try:
        import yaml

        return yaml.safe_load(raw)
    except ImportError:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    except Exception:  # noqa: BLE001 - yaml's errors: keep the text as given
        return raw
