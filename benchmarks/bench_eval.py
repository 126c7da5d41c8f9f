"""Throughput of `gym-pdb eval`: the expert over N tasks with 1, 2 and 4 workers.

    python benchmarks/bench_eval.py [--env PDB-Synthetic-v0] [--tasks 100] [--workers 1 2 4]
                                    [--sandbox local|docker] [--json out.json]

The tasks are made (or read) once, then evaluated with each worker count
through :func:`gym_pdb.evaluation.run_eval`. For each it prints episodes per
second and where the workers' time went: in the sandbox (every call of the
sandbox and of its processes: laying files, pytest runs, pdb round trips), in
the env and tools outside the sandbox (parsing, diffs, formatting), and in the
agent loop (the agent's choices, messages, trajectory and result files). It
prints figures, and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import gymnasium as gym

import gym_pdb  # noqa: F401
from gym_pdb.evaluation import EvalConfig, run_eval
from gym_pdb.evaluation.selection import select_tasks
from gym_pdb.sandbox import InteractiveProcess, Sandbox, make_sandbox


class Clock:
    """Seconds spent inside the sandbox by kind (files, run, pdb), summed over threads."""

    def __init__(self) -> None:
        self.by_kind = {"files": 0.0, "run": 0.0, "pdb": 0.0}
        self.lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return sum(self.by_kind.values())

    def timed(self, kind: str, fn, *args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            with self.lock:
                self.by_kind[kind] += elapsed


class TimedProcess(InteractiveProcess):
    def __init__(self, inner: InteractiveProcess, clock: Clock):
        self.inner, self.clock = inner, clock

    def write(self, data: bytes) -> None:
        self.clock.timed("pdb", self.inner.write, data)

    def read_until(self, marker: bytes, timeout: float, limit: int) -> tuple[bytes, bool]:
        return self.clock.timed("pdb", self.inner.read_until, marker, timeout, limit)

    def alive(self) -> bool:
        return self.clock.timed("pdb", self.inner.alive)

    def interrupt(self) -> None:
        self.clock.timed("pdb", self.inner.interrupt)

    def kill(self) -> None:
        self.clock.timed("pdb", self.inner.kill)

    @property
    def exit_code(self) -> int | None:
        return self.inner.exit_code


class TimedSandbox(Sandbox):
    """A sandbox that counts the time spent in it; the env does not close it (the bench does)."""

    def __init__(self, inner: Sandbox, clock: Clock):
        self.inner, self.clock = inner, clock
        self.limits, self.info = inner.limits, inner.info

    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        self.clock.timed("files", self.inner.reset_workspace, files, readonly)

    def write_file(self, path: str, content: bytes) -> None:
        self.clock.timed("files", self.inner.write_file, path, content)

    def read_file(self, path: str) -> bytes:
        return self.clock.timed("files", self.inner.read_file, path)

    def remove_file(self, path: str) -> None:
        self.clock.timed("files", self.inner.remove_file, path)

    def run(self, argv, timeout, env=None, output_limit=None):
        return self.clock.timed("run", self.inner.run, argv, timeout, env, output_limit)

    def spawn(self, argv, env=None) -> InteractiveProcess:
        return TimedProcess(self.clock.timed("pdb", self.inner.spawn, argv, env), self.clock)

    def close(self) -> None:
        self.inner.close()


def make_tasks(env_id: str, count: int, data_dir: str | None) -> dict[str, Any]:
    """``count`` tasks with a gold fix from ``env_id``, made once (a generated suite generates them here)."""
    env = gym.make(env_id, **({"data_dir": data_dir} if data_dir else {}))
    try:
        refs, notes = select_tasks(
            [env_id], count, 0, lambda _: env.unwrapped, need_gold=True, workers=os.cpu_count() or 1
        )
        tasks = {ref.task_id: env.unwrapped.tasks[ref.task_id] for ref in refs}
    finally:
        env.close()
        close = getattr(env.unwrapped.tasks, "close", None)
        if callable(close):
            close()
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return tasks


def bench(env_id: str, tasks: dict[str, Any], workers: int, sandbox: str | None, out_dir: Path) -> dict[str, Any]:
    config = EvalConfig(
        env=[env_id], agent="expert", tasks=list(tasks), n_parallel=workers, sandbox=sandbox,
        output=str(out_dir / f"workers-{workers}"), max_steps=30,
    )  # fmt: skip
    clock = Clock()
    sandboxes: list[Sandbox] = []
    lock = threading.Lock()

    def make_env(env_id: str, agent, shared=None) -> gym.Env:
        timed = TimedSandbox(make_sandbox(sandbox), clock)
        with lock:
            sandboxes.append(timed)
        return gym.make(env_id, max_episode_steps=config.max_steps, tools=list(agent.tools), tasks=tasks, sandbox=timed)

    try:
        result = run_eval(config, progress=False, make_env=make_env)
    finally:
        for s in sandboxes:
            s.close()
    rows = result.rows
    busy = sum(r["timings"]["wall"] + r["timings"].get("record", 0.0) for r in rows)
    env_seconds = sum(r["timings"]["env"] + r["timings"]["reset"] for r in rows)
    capacity = result.wall_time * min(workers, len(rows))
    return {
        "workers": workers,
        "episodes": len(rows),
        "resolved": sum(bool(r["resolved"]) for r in rows),
        "errors": sum(bool(r["error"]) for r in rows),
        "wall_s": round(result.wall_time, 2),
        "episodes_per_s": round(len(rows) / result.wall_time, 3),
        "steps_per_s": round(sum(r["steps"] for r in rows) / result.wall_time, 2),
        "share": {
            "sandbox": clock.seconds / busy,
            "tools": max(0.0, env_seconds - clock.seconds) / busy,
            "agent_loop": max(0.0, busy - env_seconds) / busy,
        },
        "sandbox_split": {kind: seconds / busy for kind, seconds in clock.by_kind.items()},
        "agent_s_per_episode": sum(r["timings"]["agent"] for r in rows) / max(1, len(rows)),
        "idle": max(0.0, 1 - busy / capacity) if capacity else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="PDB-Synthetic-v0", help="a suite with gold fixes (default PDB-Synthetic-v0)")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--sandbox", choices=["local", "docker"], default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    start = time.perf_counter()
    tasks = make_tasks(args.env, args.tasks, args.data_dir)
    made = time.perf_counter() - start
    print(f"{len(tasks)} tasks of {args.env} ready in {made:.1f}s; {os.cpu_count()} CPUs, "
          f"{platform.python_implementation()} {platform.python_version()}, sandbox {args.sandbox or 'local'}")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        for workers in args.workers:
            results.append(bench(args.env, tasks, workers, args.sandbox, Path(tmp)))
    base = results[0]["episodes_per_s"]
    print(f"\n{'workers':>7}  {'episodes':>8}  {'resolved':>8}  {'wall s':>7}  {'ep/s':>6}  {'speedup':>7}  "
          f"{'steps/s':>7}  {'sandbox':>7}  {'tools':>6}  {'loop':>6}  {'idle':>5}")  # fmt: skip
    for r in results:
        share = r["share"]
        print(
            f"{r['workers']:>7}  {r['episodes']:>8}  {r['resolved']:>8}  {r['wall_s']:>7.1f}  {r['episodes_per_s']:>6.2f}  "
            f"{r['episodes_per_s'] / base:>6.2f}x  {r['steps_per_s']:>7.1f}  {100 * share['sandbox']:>6.1f}%  "
            f"{100 * share['tools']:>5.1f}%  {100 * share['agent_loop']:>5.1f}%  {100 * r['idle']:>4.0f}%"
        )
    split = ", ".join(f"{kind} {100 * share:.1f}%" for kind, share in results[0]["sandbox_split"].items())
    print(f"\nThe sandbox share with {results[0]['workers']} worker(s), by kind: {split} "
          "(run = pytest runs of eval; pdb = the debugger's processes; files = laying and writing files).")  # fmt: skip
    print(
        "\nShares of the workers' busy time: sandbox = inside sandbox calls and its processes (laying files, "
        "pytest runs, pdb round trips); tools = the env and tools outside the sandbox (parsing, diffs, "
        "formatting); loop = the agent loop (the agent's choices, messages, trajectory and result files). "
        "idle = worker time without an episode (start, the last episodes)."
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"env": args.env, "tasks_ready_s": made, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
