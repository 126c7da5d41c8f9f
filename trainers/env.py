"""gym-pdb episodes as TRL environments (``GRPOTrainer(environment_factory=...)``).

TRL's tool loop calls ``reset(**row)`` on one environment instance per
generation, appends the returned text (the task prompt) to the row's last user
message, and then exposes every public method of the instance as a tool: the
method's signature and Google-style docstring become the JSON schema shown to
the model. After each assistant turn TRL calls the methods the model asked for
and appends their results as tool messages; those tokens are masked out of the
loss (``tool_mask``), and the model's own tokens are kept exactly as generated
(the sequence is extended by concatenation, never re-tokenised).
``get_reward()`` scores the finished episode from the tests.

:class:`PDBToolEnv` has one method per default gym-pdb tool (``pdb``,
``rewrite``, ``view``, ``eval``, ``grep``, ``listdir``), and
:func:`tool_env_class` makes the class of any set of registered tools
(``submit``, a tool of one's own): each method is derived from the tool's
schema (:mod:`trainers.tool_methods`), so the schema the model sees during
GRPO is the one it sees in ``gym-pdb eval`` and in the SFT trajectories.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, cast

import gymnasium as gym

import gym_pdb  # noqa: F401  (registers the PDB-*-v0 ids)
from gym_pdb.agents.prompts import DEBUG_SYSTEM_PROMPT as SYSTEM_PROMPT
from gym_pdb.tasks.parquet import load_parquet
from gym_pdb.tasks.registry import load_source
from gym_pdb.tasks.source import TaskSource
from gym_pdb.tasks.task import Task
from gym_pdb.profiles import get_profile
from gym_pdb.tools import DEFAULT_TOOLS, Tool
from gym_pdb.verdict import reward as rewards

from .tool_methods import tool_method

if TYPE_CHECKING:
    from gym_pdb.env import PDBEnv
    from gym_pdb.serve.remote import RemotePDBEnv

__all__ = [
    "SYSTEM_PROMPT",
    "PDBEpisode",
    "PDBToolEnv",
    "TaskIndex",
    "env_factory",
    "load_tasks",
    "rl_parquet_tasks",
    "tool_env_class",
]

LIMIT_MESSAGE = "Tool-call limit reached: the episode is over."
DONE_MESSAGE = "All tests pass: the episode is over."
SUBMITTED_MESSAGE = "The fix was submitted: the episode is over."

# ----------------------------------------------------------------------------- tasks


class TaskIndex(TaskSource):
    """Tasks of several sources under one finite source; ids that collide get a ``suite/`` prefix.

    A source itself, so an env keeps it as it is (each task read on first use)
    rather than copying every task into a dict of its own.
    """

    def __init__(self, sources: Sequence[Mapping[str, Task]] = (), names: Sequence[str] | None = None) -> None:
        self._where: dict[str, tuple[Mapping[str, Task], str]] = {}
        self.name = "tasks"
        for n, source in enumerate(sources):
            label = names[n] if names else (source.name if isinstance(source, TaskSource) and source.name else str(n))
            self.add(source, label)

    def add(self, source: Mapping[str, Task], label: str, ids: Sequence[str] | None = None) -> list[str]:
        keys = []
        for task_id in ids if ids is not None else list(source):
            if task_id not in source:
                raise KeyError(f"no task {task_id!r} in {label}")
            key = task_id if task_id not in self._where else f"{label}/{task_id}"
            self._where[key] = (source, task_id)
            keys.append(key)
        return keys

    def __getitem__(self, key: str) -> Task:
        source, task_id = self._where[key]
        return source[task_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where


def rl_parquet_tasks(path: str | os.PathLike[str], suite: str | None = None) -> TaskSource:
    """Tasks from the SWE-PDB RL parquet format (``task_id, problem_statement, prompt, extra_info``)."""
    return load_parquet(path, suite)


def _remote_tasks(name: str, remote: str | Sequence[str]) -> TaskSource:
    from gym_pdb.serve.remote import RemotePDBEnv
    from gym_pdb.serve.remote_tasks import RemoteTasks

    env_id = name if name.startswith("PDB-") else f"PDB-{name}-v0"
    url = RemotePDBEnv(remote=remote).urls[0]
    token = os.environ.get("GYM_PDB_SERVE_TOKEN")
    return RemoteTasks(url, env_id, {"Authorization": f"Bearer {token}"} if token else None)


def served_env_id(specs: str | Sequence[str]) -> str:
    """The one env id that remote task specs name (a server serves one env)."""
    names = {s.partition(":")[0] for s in ([specs] if isinstance(specs, str) else specs)}
    ids = {n if n.startswith("PDB-") else f"PDB-{n}-v0" for n in names}
    if len(ids) != 1:
        raise ValueError(f"remote tasks come from one served env, not {sorted(ids)}")
    return ids.pop()


def load_tasks(
    specs: str | Sequence[str],
    data_dir: str | os.PathLike[str] | None = None,
    index: TaskIndex | None = None,
    remote: str | Sequence[str] | None = None,
) -> tuple[TaskIndex, list[str]]:
    """Resolve task specs into a :class:`TaskIndex` and the keys they selected.

    A spec is a suite (``MiniNightmare`` or ``PDB-MiniNightmare-v0``), optionally
    with ids (``PDB-DebugBench-v0:id1,id2``) or a count (``PDB-DebugBench-v0:100``:
    the first 100); an RL parquet file (``rl_train.parquet``); or a folder of task
    folders (a custom suite). Each is a registered task source: a file or a
    folder is ``Custom``'s, a name the source of that name. With ``remote``
    (``gym-pdb serve`` URLs) a spec is the served env id, with ids or a count,
    and the tasks are the server's (its task API).
    """
    index = index if index is not None else TaskIndex()
    keys: list[str] = []
    for spec in [specs] if isinstance(specs, str) else specs:
        name, _, selection = spec.partition(":") if not os.path.exists(spec) else (spec, "", "")
        source: TaskSource
        if remote:
            source, label = _remote_tasks(name, remote), name
        elif name.endswith(".parquet") or os.path.isdir(name):
            source = load_source("Custom", name)
            label = source.name
        else:
            short = name[4:-3] if name.startswith("PDB-") and name.endswith("-v0") else name
            source, label = load_source(short, data_dir), name
        ids = None
        if selection.isdigit():
            ids = list(source)[: int(selection)]
        elif selection:
            ids = [s for s in selection.split(",") if s]
        keys += index.add(source, label, ids)
    return index, keys


# ----------------------------------------------------------------------------- the environment


class PDBEpisode:
    """One gym-pdb episode driven by TRL: ``reset``, tool calls, ``get_reward``.

    Args:
        tasks: the tasks rows may name (``row["task_id"]`` is a key of it).
        env_id: the registered id used to build the env (``tasks`` replaces its suite).
        sandbox: a registered sandbox kind (``"local"``, ``"docker"``...).
        max_tool_calls: tool calls allowed per episode (the paper: 80); later calls are refused.
        final_eval: when the episode ends unresolved, run the tests once more for the reward.
        reward: ``"resolved"`` (1.0 when the tests' verdict pays) or ``"fraction"`` (else the
            fraction passing): the env's own reward definition, ``gym_pdb.verdict.reward``.
        env_kwargs: more keyword arguments for ``gymnasium.make`` (``limits``, ``eval_timeout``...).
        remote: ``gym-pdb serve`` URLs: the episode runs there (``env_id`` is the served one; the
            server decides the sandbox and the tasks), so no sandbox runs on the training machine.
    """

    #: The tools' names in the order ``gym-pdb eval`` offers them (set by :func:`tool_env_class`).
    TOOL_ORDER: tuple[str, ...] = ()

    def __init__(
        self,
        tasks: Mapping[str, Task] | None = None,
        env_id: str = "PDB-Custom-v0",
        sandbox: str = "local",
        max_tool_calls: int = 80,
        final_eval: bool = True,
        reward: str = "resolved",
        data_dir: str | os.PathLike | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
        remote: str | Sequence[str] | None = None,
    ):
        if reward not in ("resolved", "fraction"):
            raise ValueError(f"reward must be 'resolved' or 'fraction', not {reward!r}")
        kwargs = dict(env_kwargs or {})
        if remote:
            kwargs["remote"] = remote
        else:
            kwargs["sandbox"] = sandbox
            if tasks is not None:
                kwargs["tasks"] = tasks
            if data_dir is not None:
                kwargs["data_dir"] = data_dir
        self.env = gym.make(env_id, max_episode_steps=max_tool_calls + 2, **kwargs)
        self.remote = remote
        self.max_tool_calls = max_tool_calls
        self.final_eval = final_eval
        self.reward_kind = reward
        self._lock = threading.Lock()
        self._prefetched: tuple[Any, str] | None = None
        self._clear()

    def _clear(self) -> None:
        self.task_id: str | None = None
        self.tool_calls = 0
        self.resolved = False
        self.tests_passed = -1
        self.tests_total = -1
        self.submitted = False
        self.finished = False
        self.history: list[tuple[str, dict[str, Any], str]] = []

    # -- TRL protocol: ``reset`` and ``get_reward``; every other public method is a tool ----------
    def reset(self, **row: Any) -> str:
        """Start the episode of ``row["task_id"]``; returns the task prompt."""
        key = _row_key(row)
        with self._lock:
            prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == key:
            return prefetched[1]  # the episode was set up by _prefetch_reset, untouched since
        return self._reset(row)

    def _prefetch_reset(self, **row: Any) -> None:
        """Do ``reset(**row)``'s work now (e.g. in a thread), so that the next ``reset(**row)`` returns at once."""
        observation = self._reset(row)
        with self._lock:
            self._prefetched = (_row_key(row), observation)

    def get_reward(self) -> float:
        """The episode's reward: the env's verdict on its last test run (``gym_pdb.verdict.reward``)."""
        self._finish()
        if self.remote:  # the server's verdict, from the same reward definition
            state = cast("RemotePDBEnv", self.env.unwrapped).state()
            return float(state.progress) if self.reward_kind == "fraction" else float(state.resolved)
        env = cast("PDBEnv", self.env.unwrapped)  # made by gym.make of a PDB-*-v0 id
        mode = "fraction" if self.reward_kind == "fraction" else "sparse"
        return rewards.reward(env.last_eval, mode, ended=True, integrity=env.integrity)

    def _finish(self) -> None:
        """End the episode: run the tests once more if it is unresolved and ``final_eval`` is set."""
        if self.finished or self.task_id is None:
            return
        self.finished = True
        if self.final_eval and not self.resolved and not self.submitted:  # submit ran the tests last
            self._step("eval", {}, count=False)

    def _close(self) -> None:
        self.env.close()

    # -- internals ------------------------------------------------------------------------
    def _reset(self, row: Mapping[str, Any]) -> str:
        self._clear()
        options = {"task_id": row["task_id"]} if row.get("task_id") is not None else None
        seed = row.get("seed")
        observation, info = self.env.reset(seed=int(seed) if seed is not None else None, options=options)
        self.task_id = info.get("task_id", row.get("task_id"))
        return observation

    def _step(self, name: str, arguments: dict[str, Any], count: bool = True) -> str:
        if self.task_id is None:
            return "Error: the environment was not reset."
        if count:
            if self.resolved:
                return DONE_MESSAGE
            if self.submitted:
                return SUBMITTED_MESSAGE
            if self.tool_calls >= self.max_tool_calls:
                return LIMIT_MESSAGE
            self.tool_calls += 1
        arguments = {k: v for k, v in arguments.items() if v is not None}
        observation, _reward, terminated, _truncated, info = self.env.step({"name": name, "arguments": arguments})
        if "eval" in info:  # the call ran the tests (eval, submit)
            self.tests_passed, self.tests_total = info["tests_passed"], info["tests_total"]
        if info.get("resolved"):
            self.resolved = True
        elif terminated:
            self.submitted = True
        self.history.append((name, arguments, observation))
        return observation


def _row_key(row: Mapping[str, Any]) -> tuple:
    return (row.get("task_id"), row.get("seed"))


def tool_env_class(tools: Sequence[str] = DEFAULT_TOOLS, profile: str = "gym-pdb") -> type[PDBEpisode]:
    """A :class:`PDBEpisode` subclass with one method per tool in ``tools``, any registered tool.

    The default tools give :class:`PDBToolEnv` (TRL names the reward column
    after the class); other sets give ``PDBToolEnv_<tools>``, made once each.
    ``profile``'s schemas make the methods (``swe-pdb``: SWE-PDB's descriptions;
    TRL's schema of a method cannot say "required but nullable", so its
    nullable arguments reach the model as optional ones of their other type).

    Raises:
        ValueError: a tool is not registered, or its name is one of PDBEpisode's.
    """
    tools = tuple(tools)
    registry = get_profile(profile).tools
    unknown = [t for t in tools if t not in registry]
    if unknown:
        raise ValueError(f"unknown tools {unknown}; choose from {list(registry)}")
    taken = [t for t in tools if hasattr(PDBEpisode, t) or t.startswith("_")]
    if taken:  # TRL would not offer a private name, and reset/get_reward are its protocol
        raise ValueError(f"tools {taken} cannot be methods of an episode: the names are taken or private")
    key = tuple(registry[name] for name in tools)  # the registry as it is now: a tool registered late counts
    if key not in _CLASSES:
        name = "PDBToolEnv" if tools == tuple(DEFAULT_TOOLS) else "PDBToolEnv_" + "_".join(tools)
        if profile != "gym-pdb":
            name += "_" + profile.replace("-", "_")
        schemas = [cls().schema() for cls in key]
        namespace: dict[str, Any] = {s["function"]["name"]: tool_method(s) for s in schemas}
        namespace["__doc__"] = f"A gym-pdb episode with the tools {', '.join(tools)} as methods."
        namespace["TOOL_ORDER"] = tools  # the order gym-pdb eval offers them in (TRL would sort them)
        namespace["__module__"] = __name__
        _CLASSES[key] = type(name, (PDBEpisode,), namespace)
    return _CLASSES[key]


_CLASSES: dict[tuple[type[Tool], ...], type[PDBEpisode]] = {}
#: The episode with the default tools (what GRPO offers unless told otherwise).
PDBToolEnv = tool_env_class(DEFAULT_TOOLS)


def env_factory(
    tasks: Mapping[str, Task],
    tools: Sequence[str] = DEFAULT_TOOLS,
    profile: str = "gym-pdb",
    **kwargs: Any,
) -> Callable[[], PDBEpisode]:
    """A zero-argument factory for ``GRPOTrainer(environment_factory=...)``.

    ``kwargs`` go to :class:`PDBEpisode` (``sandbox``, ``max_tool_calls``, ``final_eval``, ``env_kwargs``...).
    Tools not in ``tools`` are also withheld from the env itself; ``profile`` is the env's
    (:mod:`gym_pdb.profiles`) and gives the methods their schemas.
    """
    cls = tool_env_class(tools, profile)
    env_kwargs = dict(kwargs.pop("env_kwargs", None) or {})
    env_kwargs.setdefault("tools", tuple(tools))
    if profile != "gym-pdb":
        env_kwargs.setdefault("profile", profile)

    def make() -> PDBEpisode:
        return cls(tasks=tasks, env_kwargs=env_kwargs, **kwargs)

    return make
