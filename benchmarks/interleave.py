"""Compare bench_env's figures of two checkouts, measured in turns on the same machine.

    git worktree add /tmp/gym-pdb-base HEAD~1
    python benchmarks/interleave.py --base /tmp/gym-pdb-base [--sandbox local|docker] [--rounds 3] [--reps 20] [--quick]

Runs ``benchmarks/bench_env.py`` of this checkout and of ``--base`` one after
the other, ``--rounds`` times, alternating which goes first, each with its own
code on ``sys.path`` (the same interpreter and installed packages), so that
the machine's load falls on both alike. ``--quick`` times only reset, pdb
``p`` and eval (bench_env's own way, with its ``timed``), in many short
rounds: on a loaded machine, more turns beat longer runs. Prints, per task
and operation, the median over the rounds of each side's p50 and their ratio
(this / base). It prints figures and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
OPERATIONS = ("reset", "pdb p (env.step)", "rewrite + pdb restart (pytest)", "eval")


def run_bench(checkout: Path, sandbox: str, reps: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bench.json"
        env = dict(os.environ, PYTHONPATH=str(checkout))
        subprocess.run(
            [sys.executable, str(checkout / "benchmarks" / "bench_env.py"), "--sandbox", sandbox, "--reps", str(reps), "--json", str(out)],
            cwd=checkout,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(out.read_text())


QUICK = """
import json, sys
sys.path.insert(0, {benchmarks!r})
import bench_env
from gym_pdb.env import PDBEnv

report = {{"tasks": {{}}}}
for suite, task_id in {tasks!r}:
    env = PDBEnv(suite=suite, sandbox={sandbox!r})
    env.reset(options={{"task_id": task_id}})
    env.sandbox.wait_warm(60)
    rows = {{"reset": bench_env.stats(bench_env.timed(lambda: env.reset(options={{"task_id": task_id}}), {reps}))}}
    env.step("pdb start pytest test.py")
    rows["pdb p (env.step)"] = bench_env.stats(bench_env.timed(lambda: env.step("pdb p 1+1"), {reps} * 5))
    env.reset(options={{"task_id": task_id}})
    rows["eval"] = bench_env.stats(bench_env.timed(lambda: env.step("eval"), {reps}, warmup=2))
    report["tasks"][suite + "/" + task_id] = {{"env": rows}}
    env.close()
print(json.dumps(report))
"""


def run_quick(checkout: Path, sandbox: str, reps: int) -> dict:
    sys.path.insert(0, str(HERE / "benchmarks"))
    import bench_env

    code = QUICK.format(benchmarks=str(checkout / "benchmarks"), tasks=bench_env.TASKS, sandbox=sandbox, reps=reps)
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run([sys.executable, "-c", code], cwd=checkout, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a checkout of the commit to compare with")
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="only reset, pdb p and eval")
    args = parser.parse_args()
    bench = run_quick if args.quick else run_bench
    sides = {"this": HERE, "base": Path(args.base).resolve()}
    p50s: dict[tuple[str, str, str], list[float]] = {}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for side in order:
            report = bench(sides[side], args.sandbox, args.reps)
            for task, rows in report["tasks"].items():
                for op in OPERATIONS:
                    if op in rows["env"]:
                        p50s.setdefault((side, task, op), []).append(rows["env"][op]["p50"])
            print(f"round {round_ + 1}: {side} done", file=sys.stderr)
    print(f"# interleaved bench_env, sandbox {args.sandbox}, {args.rounds} rounds, p50 ms (median over rounds)")
    print(f"{'task':28s} {'operation':34s} {'this':>9s} {'base':>9s} {'ratio':>7s}")
    tasks = sorted({task for _, task, _ in p50s})
    for task in tasks:
        for op in OPERATIONS:
            if ("this", task, op) not in p50s or ("base", task, op) not in p50s:
                continue
            this = statistics.median(p50s[("this", task, op)])
            base = statistics.median(p50s[("base", task, op)])
            print(f"{task:28s} {op:34s} {this:9.3f} {base:9.3f} {this / base:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
