"""Speed of PDBEnv's operations against the floor of the same work done bare.

    python benchmarks/bench_env.py [--sandbox local|docker] [--reps 30] [--json out.json]

For tasks of three suites: p50/p95 of reset, a pdb ``p`` round trip, ``b``
(every function of the program) then ``c`` to a breakpoint, view, rewrite with
the pdb restart (python and pytest runners), and eval. In the same run, the
floor: a bare ``python -m pdb`` driven over pipes (start to first prompt, and
a ``p 1+1`` round trip), a bare ``python -m pytest --trace`` start, and a bare
pytest run of the same test file (plugin autoload off, as in the env). It
prints figures and ratios, and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gym_pdb  # noqa: F401
from gym_pdb.env import PDBEnv

TASKS = [("MiniNightmare", "config"), ("DebugBench", "problem_0"), ("HumanEvalBuggy", "humaneval_0")]
FALLBACK = [("Demo", "running_mean"), ("Demo", "inventory"), ("Demo", "binary_search")]
TARGETS = {
    "pdb p (env.step)": ("p50 under 0.5 ms", lambda s: s["p50"] < 0.5),
    "reset": ("p50 under 30 ms", lambda s: s["p50"] < 30),
}


def stats(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in samples_s)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50": statistics.median(ms), "p95": p95, "min": ms[0], "max": ms[-1], "n": len(ms)}


def timed(fn, reps: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def function_lines(source: str) -> list[int]:
    """The first statement line of every function (docstrings skipped)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            body = node.body
            if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            lines.append(body[0].lineno)
    return sorted(set(lines))


def bench_env(suite: str, task_id: str, sandbox: str, reps: int) -> dict[str, dict]:
    env = PDBEnv(suite=suite, sandbox=sandbox)
    try:
        env.reset(options={"task_id": task_id})
        task = env.tasks[task_id]
        entry = task.entrypoint
        source = task.files[entry]
        results = {}
        results["reset"] = stats(timed(lambda: env.reset(options={"task_id": task_id}), reps))

        env.step("pdb start pytest test.py")
        results["pdb p (env.step)"] = stats(timed(lambda: env.step("pdb p 1+1"), reps * 10))

        bps = function_lines(source)
        b_times, c_times = [], []
        for _ in range(reps):
            env.reset(options={"task_id": task_id})
            env.step("pdb start pytest test.py")
            t0 = time.perf_counter()
            for line in bps:
                env.step(f"pdb b {entry}:{line}")
            t1 = time.perf_counter()
            obs, *_, info = env.step("pdb c")
            t2 = time.perf_counter()
            b_times.append((t1 - t0) / max(1, len(bps)))
            c_times.append(t2 - t1)
        results["pdb b (one breakpoint)"] = stats(b_times)
        results["pdb c to a breakpoint"] = stats(c_times)

        results["view"] = stats(timed(lambda: env.step(f"view {entry}"), reps * 10))

        first = source.splitlines()[0]
        variants = [first + "  # a", first + "  # b"]
        for runner, target in (("python", entry), ("pytest", "test.py")):
            env.reset(options={"task_id": task_id})
            env.step(f"pdb start {runner} {target}")
            counter = iter(range(10**9))

            def rewrite():
                code = variants[next(counter) % 2]
                env.step({"name": "rewrite", "arguments": {"path": entry, "start": 1, "end": 1, "new_code": code}})

            results[f"rewrite + pdb restart ({runner})"] = stats(timed(rewrite, reps))
        env.reset(options={"task_id": task_id})
        results["eval"] = stats(timed(lambda: env.step("eval"), max(5, reps // 3), warmup=1))
        return results
    finally:
        env.close()


def read_to(proc: subprocess.Popen, marker: bytes, timeout: float = 30) -> bytes:
    fd = proc.stdout.fileno()
    data = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while not data.endswith(marker):
            if not sel.select(deadline - time.monotonic()):
                raise TimeoutError(marker)
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    return data


def bench_floor(suite: str, task_id: str, reps: int) -> dict[str, dict]:
    task = PDBEnv(suite=suite).tasks[task_id]
    workdir = Path(tempfile.mkdtemp(prefix="gym-pdb-floor-"))
    try:
        for path, text in task.files.items():
            (workdir / path).parent.mkdir(parents=True, exist_ok=True)
            (workdir / path).write_text(text)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        python = sys.executable

        def spawn(argv):
            return subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, bufsize=0)  # fmt: skip

        results = {}
        for name, argv in (
            ("bare pdb: start to first prompt (python)", [python, "-m", "pdb", task.entrypoint]),
            ("bare pytest --trace: start to first prompt", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--trace", "test.py"]),
        ):  # fmt: skip
            samples = []
            for i in range(reps + 2):
                start = time.perf_counter()
                proc = spawn(argv)
                read_to(proc, b"(Pdb) ")
                if i >= 2:
                    samples.append(time.perf_counter() - start)
                proc.kill()
                proc.wait()
            results[name] = stats(samples)

        proc = spawn([python, "-m", "pdb", task.entrypoint])
        read_to(proc, b"(Pdb) ")

        def round_trip():
            proc.stdin.write(b"p 1+1\n")
            read_to(proc, b"(Pdb) ")

        results["bare pdb: p 1+1 round trip"] = stats(timed(round_trip, reps * 10))
        proc.kill()
        proc.wait()
        results["bare pytest run"] = stats(
            timed(lambda: subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *task.test_files],
                                         cwd=workdir, env=env, capture_output=True), max(5, reps // 3), warmup=1)
        )  # fmt: skip
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def ratios(env_rows: dict, floor: dict) -> dict[str, float]:
    return {
        "pdb p / bare round trip": env_rows["pdb p (env.step)"]["p50"] / floor["bare pdb: p 1+1 round trip"]["p50"],
        "rewrite+restart (python) / bare pdb start": env_rows["rewrite + pdb restart (python)"]["p50"]
        / floor["bare pdb: start to first prompt (python)"]["p50"],
        "rewrite+restart (pytest) / bare pytest --trace start": env_rows["rewrite + pdb restart (pytest)"]["p50"]
        / floor["bare pytest --trace: start to first prompt"]["p50"],
        "eval / bare pytest run": env_rows["eval"]["p50"] / floor["bare pytest run"]["p50"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()

    tasks = TASKS
    try:
        for suite, task_id in TASKS:
            PDBEnv(suite=suite).tasks[task_id]
    except Exception:  # noqa: BLE001 - no suite data: measure on the demo tasks
        tasks = FALLBACK
        print("(suite data not found: measuring on the demo tasks)")

    report = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "sandbox": args.sandbox,
        "tasks": {},
    }
    for suite, task_id in tasks:
        env_rows = bench_env(suite, task_id, args.sandbox, args.reps)
        floor = bench_floor(suite, task_id, args.reps)
        report["tasks"][f"{suite}/{task_id}"] = {"env": env_rows, "floor": floor, "ratios": ratios(env_rows, floor)}

    print(f"# bench_env: {report['machine']}, load {report['load'][0]:.2f}, {report['date']}, sandbox {args.sandbox}\n")
    for name, res in report["tasks"].items():
        print(f"## {name}")
        print(f"{'operation':52s} {'p50 ms':>9s} {'p95 ms':>9s}  target")
        for op, s in {**res["env"], **res["floor"]}.items():
            target = ""
            if op in TARGETS:
                label, ok = TARGETS[op]
                target = f"{label}: {'met' if ok(s) else 'NOT met'}"
            print(f"{op:52s} {s['p50']:9.3f} {s['p95']:9.3f}  {target}")
        for label, value in res["ratios"].items():
            print(f"  ratio {label}: {value:.2f}")
        print()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
