"""What a repository task costs per episode: reset in a warm container, and eval beside bare pytest.

    python benchmarks/bench_repo.py [--reps 20] [--json out.json] [--tmpfs]

On the small repository images of ``gym_pdb.tasks.repo_examples`` (built
first where missing), for each task:

- reset: ``env.reset`` of the task in its warm container, after an episode
  that edited a file and left a stray one (the restore has work to do);
- eval: the ``eval`` tool (the tree checked, the selected FAIL_TO_PASS and
  PASS_TO_PASS tests run under the eval plugin, judged), beside the floor:
  the same ``python3 -m pytest`` command over the same node ids, run with a
  ``docker exec`` (the Docker API's exec, as the sandbox uid) in the same
  container;
- the first reset of the env (a container made, the repository copied and
  read into the host's mirror) once.

It prints p50 and p90 in ms, the ratio of the p50s and the median of the
per-rep ratios (each eval beside the bare run right after it) (targets: reset p50 <= 1 s; eval
within 1.2x of the bare run). It passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from gym_pdb.env import PDBEnv
from gym_pdb.sandbox.docker.protocol import WORKDIR
from gym_pdb.tasks.repo_examples import example_tasks
from gym_pdb.tasks.repository import repo_spec


def quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p90": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000, 1),
        "n": len(ordered),
    }


def bare_pytest(env: PDBEnv, ids: list[str]) -> float:
    """Seconds of ``python3 -m pytest -q -p no:cacheprovider IDS`` by a docker exec in the env's container."""
    sandbox = env.sandbox
    assert sandbox is not None
    info = sandbox.info.extra
    api = sandbox.client.api  # type: ignore[attr-defined]
    cmd = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", *ids]
    start = time.perf_counter()
    exec_id = api.exec_create(info["container"], cmd, user=f"{info['uid']}:{info['uid']}", workdir=WORKDIR)["Id"]
    out = api.exec_start(exec_id)
    elapsed = time.perf_counter() - start
    code = api.exec_inspect(exec_id)["ExitCode"]
    if code not in (0, 1):
        raise RuntimeError(f"bare pytest exited with {code}: {out[-500:]!r}")
    return elapsed


def bench_task(env: PDBEnv, task_id: str, reps: int) -> dict[str, Any]:
    spec = repo_spec(env.tasks[task_id])
    assert spec is not None
    resets, evals, bare = [], [], []
    for _ in range(reps):
        env.step({"name": "rewrite", "arguments": {"path": "stray_notes.py", "new_code": "x = 1\n"}})
        start = time.perf_counter()
        env.reset(options={"task_id": task_id})
        resets.append(time.perf_counter() - start)
        start = time.perf_counter()
        _, _, _, _, info = env.step("eval")
        evals.append(time.perf_counter() - start)
        assert info["tests_total"] == len(spec.test_ids), info
        bare.append(bare_pytest(env, spec.test_ids))
    reset_q, eval_q, bare_q = quantiles(resets), quantiles(evals), quantiles(bare)
    return {
        "task": task_id,
        "files": len(env.tasks[task_id].files),
        "tests": len(spec.test_ids),
        "reset_ms": reset_q,
        "eval_ms": eval_q,
        "bare_pytest_ms": bare_q,
        "eval_over_bare_p50": round(eval_q["p50"] / bare_q["p50"], 2),
        # each eval beside the bare run made right after it: steadier than the ratio of p50s on a loaded machine
        "paired_ratio_p50": round(statistics.median(e / b for e, b in zip(evals, bare, strict=True)), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("--tmpfs", action="store_true", help="the workspace in a 2 GiB tmpfs, not on disk")
    args = parser.parse_args(argv)
    options: dict[str, Any] = {"labels": {"gym-pdb.bench": "repo"}}
    if args.tmpfs:
        options["workspace_volume"] = None
    tasks = example_tasks(build=True)
    rows = []
    for task_id in tasks:
        env = PDBEnv(tasks=tasks, sandbox="docker", sandbox_kwargs=options)
        try:
            start = time.perf_counter()
            env.reset(options={"task_id": task_id})
            first = time.perf_counter() - start
            env.step("eval")  # warm the page cache
            row = bench_task(env, task_id, args.reps)
            row["first_reset_ms"] = round(first * 1000, 1)
            rows.append(row)
        finally:
            env.close()
    print(f"{'task':18s} {'files':>5s} {'tests':>5s} {'first reset':>11s} {'reset p50/p90':>14s} "
          f"{'eval p50/p90':>14s} {'bare p50/p90':>14s} {'eval/bare':>9s} {'paired':>6s}")  # fmt: skip
    for r in rows:
        print(
            f"{r['task']:18s} {r['files']:5d} {r['tests']:5d} {r['first_reset_ms']:9.0f}ms "
            f"{r['reset_ms']['p50']:6.0f}/{r['reset_ms']['p90']:4.0f}ms "
            f"{r['eval_ms']['p50']:6.0f}/{r['eval_ms']['p90']:4.0f}ms "
            f"{r['bare_pytest_ms']['p50']:6.0f}/{r['bare_pytest_ms']['p90']:4.0f}ms {r['eval_over_bare_p50']:8.2f}x "
            f"{r['paired_ratio_p50']:5.2f}x"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
