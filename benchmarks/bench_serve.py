"""``gym-pdb serve`` against the env in process: sessions at once, added latency, throughput.

    python benchmarks/bench_serve.py [--env PDB-Demo-v0] [--sessions 64] [--seconds 5] [--json out.json]

Starts ``gym-pdb serve`` (local sandboxes) on a loopback port as its own
process and, against it:

1. ``--sessions`` clients at once (threads, ``gym.make(ID, remote=URL)``),
   each playing a whole episode with the scripted expert; counts the errors
   and the resolved episodes, and the wall time.
2. a pdb ``p 1+1`` step over the WebSocket beside the same step in process
   (p50/p95 of each, and the difference: what serving adds).
3. pdb ``p`` steps per second with 1, 8 and 64 sessions stepping at once,
   beside the same number of envs in process (threads).

It prints figures and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym

import gym_pdb  # noqa: F401
from gym_pdb.agents import run_episode
from gym_pdb.agents.expert import ExpertAgent

REPO = Path(__file__).resolve().parents[1]
TASK = "binary_search"


def p(ms: list[float], q: float) -> float:
    ms = sorted(ms)
    return ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]


def start_server(env_id: str, sessions: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "gym_pdb.cli", "serve", "--env", env_id, "--port", str(port),
           "--max-sessions", str(sessions + 8), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"ws://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gym-pdb serve did not start")


def concurrent_episodes(env_id: str, url: str, n: int) -> dict:
    ids = list(gym.make(env_id).unwrapped.task_ids)

    def play(i: int) -> dict:
        env = gym.make(env_id, remote=url, max_episode_steps=50)
        try:
            episode = run_episode(env, ExpertAgent(), ids[i % len(ids)], max_steps=50)
            return {"error": episode.error, "resolved": episode.resolved, "steps": episode.steps}
        except Exception as exc:  # noqa: BLE001 - counted
            return {"error": f"{type(exc).__name__}: {exc}", "resolved": False, "steps": 0}
        finally:
            env.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        rows = list(pool.map(play, range(n)))
    wall = time.perf_counter() - start
    errors = [r["error"] for r in rows if r["error"]]
    return {"sessions": n, "errors": len(errors), "first_errors": errors[:3], "resolved": sum(r["resolved"] for r in rows),
            "steps": sum(r["steps"] for r in rows), "wall_s": round(wall, 1)}  # fmt: skip


def step_latency(env_id: str, url: str, reps: int = 300) -> dict:
    out = {}
    for where, kwargs in (("in process", {}), ("served", {"remote": url})):
        env = gym.make(env_id, max_episode_steps=10_000, **kwargs)
        env.reset(options={"task_id": TASK})
        for _ in range(20):
            env.step("pdb p 1+1")
        ms = []
        for _ in range(reps):
            t = time.perf_counter()
            env.step("pdb p 1+1")
            ms.append((time.perf_counter() - t) * 1000)
        env.close()
        out[where] = {"p50": round(statistics.median(ms), 3), "p95": round(p(ms, 0.95), 3)}
    out["added_p50_ms"] = round(out["served"]["p50"] - out["in process"]["p50"], 3)
    return out


def throughput(env_id: str, url: str, n: int, seconds: float, remote: bool) -> float:
    envs = [gym.make(env_id, max_episode_steps=10**9, **({"remote": url} if remote else {})) for _ in range(n)]
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda e: e.reset(options={"task_id": TASK}), envs))
        list(pool.map(lambda e: e.step("pdb p 1+1"), envs))
        stop = threading.Event()
        counts = [0] * n

        def run(i: int) -> None:
            while not stop.is_set():
                envs[i].step("pdb p 1+1")
                counts[i] += 1

        futures = [pool.submit(run, i) for i in range(n)]
        time.sleep(seconds)
        stop.set()
        for f in futures:
            f.result()
    for env in envs:
        env.close()
    return sum(counts) / seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="PDB-Demo-v0")
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", help="write the figures there")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    proc, url = start_server(args.env, args.sessions)
    try:
        episodes = concurrent_episodes(args.env, url, args.sessions)
        print(f"{episodes['sessions']} sessions at once, one expert episode each: {episodes['errors']} errors, "
              f"{episodes['resolved']} resolved, {episodes['steps']} steps in {episodes['wall_s']} s")  # fmt: skip
        for error in episodes["first_errors"]:
            print("  error:", error)
        latency = step_latency(args.env, url)
        print(f"pdb p 1+1 p50 (p95): in process {latency['in process']['p50']} ms ({latency['in process']['p95']}), "
              f"served {latency['served']['p50']} ms ({latency['served']['p95']}); added {latency['added_p50_ms']} ms")  # fmt: skip
        rates = {}
        for n in (1, 8, 64):
            rates[n] = {"in process": round(throughput(args.env, url, n, args.seconds, False)),
                        "served": round(throughput(args.env, url, n, args.seconds, True))}  # fmt: skip
            print(f"{n:>2} sessions stepping pdb p: in process {rates[n]['in process']} steps/s, "
                  f"served {rates[n]['served']} steps/s")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    machine = f"{platform.node()}, {os.cpu_count()} cores, load {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"({machine})")
    if args.json:
        Path(args.json).write_text(json.dumps({"episodes": episodes, "latency": latency, "throughput": rates,
                                               "machine": machine}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
