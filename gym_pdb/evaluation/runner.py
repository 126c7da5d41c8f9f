"""Run an agent over the tasks of one or more suites, in parallel, resumably.

``n_parallel`` worker threads each hold one agent and one env per suite (the
sandbox is reused from task to task) and take tasks from a shared queue; the
main thread writes ``results.jsonl`` and draws the progress line. Threads
suffice: an episode waits on sandbox processes and on the model server.
"""

from __future__ import annotations

import itertools
import json
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TextIO, cast

import gymnasium as gym

import gym_pdb  # noqa: F401  (registers the environments)
from gym_pdb.agents import LLM_AGENTS, Agent, make_agent, run_episode
from gym_pdb.agents.llm import LLMError
from gym_pdb.evaluation.config import EvalConfig
from gym_pdb.profiles import get_profile
from gym_pdb.evaluation.progress import Progress
from gym_pdb.evaluation.results import CONFIG, RESULTS, append_row, finished, read_rows, record_episode, safe_name
from gym_pdb.evaluation.selection import TaskRef, select_tasks

if TYPE_CHECKING:
    from gym_pdb.env import PDBEnv

EnvFactory = Callable[..., gym.Env]  # (env_id, agent, tasks=None) -> env
WorkerEnvFactory = Callable[[str, Agent], gym.Env]


def _unwrapped(env: gym.Env) -> PDBEnv:
    """The gym-pdb environment of a suite (the runner makes only those)."""
    return cast("PDBEnv", env.unwrapped)


class EvalError(RuntimeError):
    """The run cannot start (bad configuration, a run already in the folder, no tasks)."""


@dataclass
class RunResult:
    run_dir: Path
    rows: list[dict[str, Any]] = field(default_factory=list)  # this invocation's episodes
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def errors(self) -> int:
        return sum(bool(r.get("error")) for r in self.rows)


def default_run_dir(config: EvalConfig) -> Path:
    name = config.agent
    if config.agent in LLM_AGENTS and config.llm.model:
        name += "-" + config.llm.model.rstrip("/").split("/")[-1]
    return Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(name)}"


def env_maker(config: EvalConfig) -> EnvFactory:
    """Envs as the config asks: sandbox, step limit, the agent's tools, data folder, extra kwargs.

    With ``config.remote`` the envs are served: the n-th env made starts on the
    n-th server (in turn) and moves on to the others if its server is gone.
    """
    made = itertools.count()

    def make(env_id: str, agent: Agent, tasks: Any = None) -> gym.Env:
        kwargs = dict(config.env_kwargs)
        if config.tool_schedule is not None:
            if config.remote:
                raise EvalError("a tool schedule is not offered by remote envs (gym-pdb serve) yet")
            kwargs["tool_schedule"] = config.tool_schedule
        if config.remote:
            first = next(made) % len(config.remote)
            kwargs["remote"] = config.remote[first:] + config.remote[:first]
        else:
            if tasks is not None:
                kwargs["tasks"] = tasks
            if config.sandbox:
                kwargs["sandbox"] = config.sandbox
            if config.data_dir:
                kwargs["data_dir"] = config.data_dir
        tools = list(config.tools) if config.tools else list(agent.tools)
        if config.profile != "gym-pdb":
            # The profile's own tool set, less what the agent does without (rewrite_agent: no pdb).
            kwargs["profile"] = config.profile
            tools = [t for t in get_profile(config.profile).default_tools if t in tools]
        return gym.make(env_id, max_episode_steps=config.max_steps, tools=tools, **kwargs)

    return make


def agent_maker(config: EvalConfig) -> Callable[[], Agent]:
    def make() -> Agent:
        if config.agent in LLM_AGENTS:
            return make_agent(config.agent, config.llm, **config.agent_kwargs)
        if config.agent == "human":
            raise EvalError("the human agent plays with `gym-pdb play`, not eval")
        return make_agent(config.agent, **config.agent_kwargs)

    return make


def run_eval(
    config: EvalConfig,
    progress: bool = True,
    out: TextIO | None = None,
    make_env: EnvFactory | None = None,
    make_agent_fn: Callable[[], Agent] | None = None,
) -> RunResult:
    """Evaluate ``config.agent`` on ``config.env``; rows, trajectories and patches go to the run folder."""
    started = time.monotonic()
    out = out or sys.stderr
    make_env = make_env or env_maker(config)
    make_agent_fn = make_agent_fn or agent_maker(config)
    run_dir = Path(config.output) if config.output else default_run_dir(config)
    previous = read_rows(run_dir)
    if previous and not config.resume:
        raise EvalError(
            f"{run_dir} already holds a run ({len(previous)} episodes): pass --resume to continue it, "
            "or another --output"
        )
    suites: dict[str, gym.Env] = {}  # one env per suite, for its task list; closed at the end
    try:
        refs, notes, model = _select(config, suites, make_env, make_agent_fn)
        if config.agent in LLM_AGENTS and not config.llm.model:
            config.llm.model = model
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / CONFIG).write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
        result = RunResult(run_dir=run_dir, notes=notes)
        if config.resume:
            done = finished(previous, config.rerun_failed)
            todo = [r for r in refs if (r.env_id, r.task_id) not in done]
            result.skipped, refs = len(refs) - len(todo), todo
        for note in notes:
            print(f"note: {note}", file=out)
        if result.skipped:
            print(f"resuming {run_dir}: {result.skipped} episodes done, {len(refs)} to run", file=out)

        # A generated suite's tasks live in the mapping that made them: the workers share it.
        shared = {e: _unwrapped(env).tasks for e, env in suites.items() if _unwrapped(env).tasks.unbounded}

        def make_worker_env(env_id: str, agent: Agent) -> gym.Env:
            return make_env(env_id, agent, shared[env_id]) if env_id in shared else make_env(env_id, agent)

        bar = Progress(len(refs), out=out, enabled=progress, label=f"{config.agent} ")
        try:
            for row in _run_parallel(config, model, refs, run_dir, make_worker_env, make_agent_fn):
                append_row(run_dir, row)
                result.rows.append(row)
                bar.update(row)
        except KeyboardInterrupt:
            print(f"\ninterrupted: waiting for the episodes in flight; `--resume --output {run_dir}` goes on", file=out)
            raise
        finally:
            bar.close()
    finally:
        for env in suites.values():
            env.close()
            _unwrapped(env).tasks.close()
    result.wall_time = time.monotonic() - started
    return result


def _select(
    config: EvalConfig, suites: dict[str, gym.Env], make_env: EnvFactory, make_agent_fn: Callable[[], Agent]
) -> tuple[list[TaskRef], list[str], str]:
    """The tasks to run, notes on the selection, and the model's name."""
    try:
        probe = make_agent_fn()  # fail before any work: a missing package, an unreachable server
    except (ValueError, LLMError) as exc:
        raise EvalError(str(exc)) from exc

    def open_suite(env_id: str) -> PDBEnv:
        suites[env_id] = make_env(env_id, probe)
        return _unwrapped(suites[env_id])

    try:
        refs, notes = select_tasks(
            config.env, config.tasks, config.seed, open_suite, config.agent == "expert", config.n_parallel
        )
        model = probe.model
    except (ValueError, OSError, gym.error.Error, LLMError) as exc:  # unknown env or task, no data, no server
        raise EvalError(str(exc)) from exc
    finally:
        probe.close()
    if not refs:
        raise EvalError("no tasks to run: " + ("; ".join(notes) or "the selection is empty"))
    return refs, notes, model


_DONE: dict[str, Any] = {}  # a worker is done (compared by identity, never a row)


def _run_parallel(
    config: EvalConfig,
    model: str,
    refs: list[TaskRef],
    run_dir: Path,
    make_env: WorkerEnvFactory,
    make_agent_fn: Callable[[], Agent],
) -> Iterator[dict[str, Any]]:
    """Yield result rows as workers finish episodes."""
    todo: queue.Queue[TaskRef] = queue.Queue()
    for ref in refs:
        todo.put(ref)
    rows: queue.Queue[dict[str, Any]] = queue.Queue()
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=_worker,
            args=(config, model, todo, rows, stop, run_dir, make_env, make_agent_fn),
            name=f"gym-pdb-eval-{i}",
            daemon=True,
        )
        for i in range(min(config.n_parallel, len(refs)))
    ]
    for worker in workers:
        worker.start()
    running = len(workers)
    try:
        while running:
            item = rows.get()
            if item is _DONE:
                running -= 1
            else:
                yield item
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def _worker(
    config: EvalConfig,
    model: str,
    todo: queue.Queue[TaskRef],
    rows: queue.Queue[dict[str, Any]],
    stop: threading.Event,
    run_dir: Path,
    make_env: WorkerEnvFactory,
    make_agent_fn: Callable[[], Agent],
) -> None:
    agent: Agent | None = None
    envs: dict[str, gym.Env] = {}
    try:
        while not stop.is_set():
            try:
                ref = todo.get_nowait()
            except queue.Empty:
                return
            try:
                if agent is None:
                    agent = make_agent_fn()
                if ref.env_id not in envs:
                    envs[ref.env_id] = make_env(ref.env_id, agent)
                episode = run_episode(
                    envs[ref.env_id], agent, ref.task_id, max_steps=config.max_steps, hide_locked=config.hide_locked
                )
                tick = time.perf_counter()
                row = record_episode(run_dir, episode, agent, ref.env_id, config.max_steps, config.label)
                row["timings"]["record"] = round(time.perf_counter() - tick, 4)
                rows.put(row)
            except Exception as exc:  # noqa: BLE001 - one task's failure is its row, the run goes on
                rows.put(_error_row(config, model, ref, exc))
    finally:
        for env in envs.values():
            try:
                env.close()
            except Exception:  # noqa: BLE001 - closing is best effort; sandboxes reap themselves
                pass
        if agent is not None:
            agent.close()
        rows.put(_DONE)


def _error_row(config: EvalConfig, model: str, ref: TaskRef, exc: Exception) -> dict[str, Any]:
    return {
        "task_id": ref.task_id,
        "suite": "",
        "env_id": ref.env_id,
        "agent": config.agent,
        "label": config.label or config.agent,
        "model": model,
        "resolved": False,
        "steps": 0,
        "turns": 0,
        "max_steps": config.max_steps,
        "tool_counts": {},
        "tokens": {"prompt": 0, "completion": 0},
        "wall_time": 0.0,
        "stop_reason": "error",
        "error": f"{type(exc).__name__}: {exc}",
        "trajectory": "",
        "patch": "",
        "step_log": "",
        "gold_patch": "",
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


__all__ = ["EvalError", "RunResult", "RESULTS", "run_eval", "env_maker", "agent_maker", "default_run_dir"]
