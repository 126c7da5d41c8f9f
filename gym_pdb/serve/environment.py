"""A gym-pdb episode as an OpenEnv environment: one session, one PDBEnv, one sandbox.

OpenEnv's server (``HTTPEnvServer``) makes one :class:`PDBEnvironment` per
WebSocket session and calls ``reset``/``step``/``state`` on it; this class
only translates between OpenEnv's types and :class:`~gym_pdb.env.PDBEnv`,
which stays the one place an episode is defined. The env itself is made at
the first reset (a session that only connects costs no sandbox) and kept
across resets, so its sandbox is reused as in process.

Every call into the PDBEnv runs on the session's own thread, one at a time:
steps block on sandbox processes, and the tools also reachable over MCP
(the same env, through :mod:`gym_pdb.serve.mcp_tools`) must not interleave
with WebSocket steps.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import gymnasium as gym
from openenv.core.env_server.mcp_environment import MCPEnvironment
from openenv.core.env_server.types import EnvironmentMetadata

from gym_pdb.env import PDBEnv
from gym_pdb.serve.mcp_tools import tool_server
from gym_pdb.serve.models import CLIENT_CONFIG_KEYS, PDBAction, PDBObservation, PDBState
from gym_pdb.tools import DEFAULT_TOOLS, TOOLS, tools_schema
from gym_pdb.verdict import reward as rewards

#: Upper bounds on what a client may ask for at reset.
MAX_TIMEOUTS = {"pdb_timeout": 60.0, "test_timeout": 60.0, "eval_timeout": 600.0}
TASK_SPLIT = "all"


@dataclass
class EpisodeSpec:
    """What every session of a server shares: the env id, its tasks, the sandbox, fixed env kwargs."""

    env_id: str
    tasks: Mapping[str, Any]
    suite: str
    sandbox: str = "local"
    sandbox_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, env_id: str, sandbox: str = "local", **env_kwargs: Any) -> EpisodeSpec:
        """Load the env's tasks once (a suite, a folder, a generated stream), for every session to share."""
        sandbox_kwargs = dict(env_kwargs.pop("sandbox_kwargs", None) or {})
        probe = cast(PDBEnv, gym.make(env_id, disable_env_checker=True, **env_kwargs).unwrapped)
        try:
            return cls(env_id, probe.tasks, probe.suite, sandbox, sandbox_kwargs, env_kwargs)
        finally:
            probe.close()


def client_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The env kwargs a client asked for, checked: known keys, known tools, bounded timeouts."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(CLIENT_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; a client may set {list(CLIENT_CONFIG_KEYS)}")
    if "tools" in config:
        tools = [str(t) for t in config["tools"]]
        bad = [t for t in tools if t not in TOOLS]
        if bad:
            raise ValueError(f"unknown tools {bad}; tools: {sorted(TOOLS)}")
        config["tools"] = tuple(tools)
    for key, bound in MAX_TIMEOUTS.items():
        if key in config and not 0 < float(config[key]) <= bound:
            raise ValueError(f"{key} must be in (0, {bound}] seconds on this server")
    if "max_observation_chars" in config and not 1000 <= int(config["max_observation_chars"]) <= 200_000:
        raise ValueError("max_observation_chars must be in [1000, 200000]")
    return config


class PDBEnvironment(MCPEnvironment):
    """One gym-pdb session served over OpenEnv (WebSocket) and MCP.

    ``reset(seed=None, episode_id=None, task_id=None, config=None)``: ``task_id``
    picks the task (else one drawn with ``seed``), ``config`` sets the
    session's env kwargs (``CLIENT_CONFIG_KEYS``: tools, reward mode, timeouts);
    a changed config makes a new env. ``step(PDBAction)`` is ``env.step``.
    The tools are also MCP tools (``tools/list``, ``tools/call``), each call a
    step of the same episode.
    """

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, spec: EpisodeSpec):
        self.spec = spec
        self._env: PDBEnv | None = None
        self._config: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gym-pdb-session")
        self._episode_id: str | None = None
        self._last: dict[str, Any] = {}
        self._snapshot: dict[str, Any] = {}  # what state reports, taken after each call (state runs on the event loop)
        super().__init__(tool_server(f"gym-pdb {spec.env_id}", tools_schema(DEFAULT_TOOLS), self._mcp_call))

    # -- OpenEnv: reset / step / state ---------------------------------------------------------
    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        task_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> PDBObservation:
        if kwargs:
            raise ValueError(f"reset takes seed, episode_id, task_id and config, not {sorted(kwargs)}")
        wanted = client_config(config)
        with self._lock:
            if self._env is not None and wanted != self._config:
                self._env.close()
                self._env = None
            if self._env is None:
                self._env = self._make_env(wanted)
                self._config = wanted
            options = {"task_id": task_id} if task_id is not None else None
            text, info = self._env.reset(seed=seed, options=options)
            self._episode_id = episode_id or info["task_id"]
            self._took(info)
            return PDBObservation(
                text=text, info=info, env_id=self.spec.env_id, tools=self._env.tools_schema(), reward=0.0
            )

    def _step_impl(self, action: PDBAction, timeout_s: float | None = None, **kwargs: Any) -> PDBObservation:
        if not isinstance(action, PDBAction):
            raise TypeError(f"a gym-pdb step takes a PDBAction, not {type(action).__name__}")
        with self._lock:
            if self._env is None or self._env.task is None:
                raise RuntimeError("call reset() before step(): this session has no episode")
            text, reward, terminated, truncated, info = self._env.step(action.to_env_action())
            self._took(info)
            return PDBObservation(
                text=text,
                reward=float(reward),
                done=bool(terminated or truncated),
                terminated=bool(terminated),
                truncated=bool(truncated),
                info=info,
                env_id=self.spec.env_id,
            )

    def _took(self, info: dict[str, Any]) -> None:
        """Remember the step's info and what ``state`` reports (on the session's thread, under the lock)."""
        env = self._env
        assert env is not None  # called after a step of it
        self._last = info
        self._snapshot = {
            "files": env.workspace_files(),
            "resolved": rewards.earns(env.last_eval, env.integrity),
            "progress": rewards.progress(env.last_eval, env.integrity),
        }

    @property
    def state(self) -> PDBState:
        info, snapshot = self._last, self._snapshot
        return PDBState(
            episode_id=self._episode_id,
            step_count=int(info.get("step", 0)),
            env_id=self.spec.env_id,
            task_id=info.get("task_id"),
            suite=info.get("suite"),
            resolved=bool(snapshot.get("resolved", False)),
            progress=float(snapshot.get("progress", 0.0)),
            files=dict(snapshot.get("files", {})),
            tests_passed=int(info.get("tests_passed", -1)),
            tests_total=int(info.get("tests_total", -1)),
            config={k: list(v) if isinstance(v, tuple) else v for k, v in self._config.items()},
        )

    # Every PDBEnv call on the session's thread (the server would use a shared pool for steps).
    async def reset_async(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> PDBObservation:
        return await self._on_thread(self.reset, seed=seed, episode_id=episode_id, **kwargs)

    async def step_async(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        if isinstance(action, PDBAction):
            return await self._on_thread(self._step_impl, action)
        return await super().step_async(action, timeout_s=timeout_s, **kwargs)

    async def _on_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: fn(*args, **kwargs))

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name=self.spec.env_id,
            description=f"gym-pdb: fix a buggy Python program with pdb ({self.spec.suite} tasks, "
            f"{self.spec.sandbox} sandbox)",
            version=_version(),
            documentation_url="https://github.com/gym-pdb/gym-pdb#serve",
        )

    def close(self) -> None:
        with self._lock:
            if self._env is not None:
                self._env.close()
                self._env = None
        self._thread.shutdown(wait=False)
        super().close()

    # -- MCP: each tool call is a step of this session's episode ---------------------------------
    def _mcp_call(self, name: str, arguments: dict[str, Any]) -> str:
        with self._lock:
            if self._env is None or self._env.task is None:
                return "Error: no episode yet: reset the session first (OpenEnv reset), then call tools."
            if name not in self._env.tools:
                return f"Error: this session's tools are {', '.join(self._env.tools)}; {name} is not one of them."
            text, _reward, _terminated, _truncated, info = self._env.step({"name": name, "arguments": arguments})
            self._took(info)
            return text

    # -- OpenEnv's task API (TaskProvider): the suite's tasks, gold fixes included ---------------
    def list_splits(self) -> list[str]:
        return [TASK_SPLIT]

    def _ids(self, split: str) -> list[str]:
        if split != TASK_SPLIT:
            raise IndexError(f"unknown split {split!r}")
        return list(self.spec.tasks)

    def list_tasks(self, split: str) -> list[dict[str, Any]]:
        return [{"id": task_id, "index": i} for i, task_id in enumerate(self._ids(split))]

    def num_tasks(self, split: str) -> int:
        return len(self._ids(split))

    def get_task(self, split: str, index: int) -> dict[str, Any]:
        ids = self._ids(split)
        if not 0 <= index < len(ids):
            raise IndexError(index)
        return {"index": index, **self.spec.tasks[ids[index]].to_dict()}

    def get_task_range(self, split: str, start: int | None = None, stop: int | None = None) -> list[dict[str, Any]]:
        ids = self._ids(split)
        return [self.get_task(split, i) for i in range(len(ids))[slice(start, stop)]]

    # -- internals ------------------------------------------------------------------------------
    def _make_env(self, config: Mapping[str, Any]) -> PDBEnv:
        kwargs = {**self.spec.env_kwargs, **config}
        kwargs.setdefault("tools", DEFAULT_TOOLS)
        env = gym.make(
            self.spec.env_id,
            disable_env_checker=True,
            tasks=self.spec.tasks,
            sandbox=self.spec.sandbox,
            sandbox_kwargs=self.spec.sandbox_kwargs,
            **kwargs,
        )
        return cast(PDBEnv, env.unwrapped)


def _version() -> str:
    try:
        return importlib.metadata.version("gym-pdb")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


__all__ = ["EpisodeSpec", "PDBEnvironment", "client_config"]
