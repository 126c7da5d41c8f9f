"""Speed of PDBEnv's operations against the floor of the same work done bare.

    python benchmarks/bench_env.py [--sandbox local|docker] [--reps 30] [--json out.json]

For tasks of three suites, on the chosen backend: p50/p95 of reset, a pdb ``p`` round trip, ``b``
(every function of the program) then ``c`` to a breakpoint, view, rewrite with
the pdb restart (python and pytest runners), and eval. In the same run, the
floor: a bare ``python -m pdb`` driven over pipes (for docker: over one exec
socket in the same kind of container), start to first prompt and a ``p 1+1``
round trip; a bare ``python -m pytest --trace`` start; and a bare pytest run of
the same test file (plugin autoload off, as in the env). Last, the throughput
of 8 envs stepping in parallel. It prints figures and ratios, and passes or
fails nothing.
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
    "local": {
        "pdb p (env.step)": ("p50 under 0.5 ms", lambda s: s["p50"] < 0.5),
        "reset": ("p50 under 30 ms", lambda s: s["p50"] < 30),
    },
    "docker": {
        "pdb p (env.step)": ("p50 under 1 ms", lambda s: s["p50"] < 1.0),
        "reset": ("p50 under 150 ms", lambda s: s["p50"] < 150),
    },
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
        env.sandbox.wait_warm(60)  # measure the steady state of a long-lived env
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
                code = variants[next(counter) % 2]  # noqa: B023 - called within this iteration only
                env.step({"name": "rewrite", "arguments": {"path": entry, "start": 1, "end": 1, "new_code": code}})

            results[f"rewrite + pdb restart ({runner})"] = stats(timed(rewrite, reps))

            def rewrite_after_thinking():
                time.sleep(0.5)
                start = time.perf_counter()
                rewrite()
                return time.perf_counter() - start

            samples = [rewrite_after_thinking() for _ in range(max(5, reps // 2))]
            results[f"rewrite + pdb restart ({runner}, 0.5 s after the last step)"] = stats(samples)
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


class HostFloor:
    """Bare processes on this machine: plain pipes, no limits, no sandbox."""

    def __init__(self, task, python: str | None = None):
        self.workdir = Path(tempfile.mkdtemp(prefix="gym-pdb-floor-"))
        for path, text in task.files.items():
            (self.workdir / path).parent.mkdir(parents=True, exist_ok=True)
            (self.workdir / path).write_text(text)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        self.python = python or sys.executable

    def start(self, argv):
        proc = subprocess.Popen([self.python, *argv], cwd=self.workdir, env=self.env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)  # fmt: skip
        read_to(proc, b"(Pdb) ")
        return proc

    def command(self, proc, line: bytes):
        proc.stdin.write(line)
        read_to(proc, b"(Pdb) ")

    def stop(self, proc):
        proc.kill()
        proc.wait()

    def run(self, argv):
        subprocess.run([self.python, *argv], cwd=self.workdir, env=self.env, capture_output=True)

    def close(self):
        shutil.rmtree(self.workdir, ignore_errors=True)


class SandboxFloor:
    """Bare commands through a sandbox backend (for docker: one exec socket, no gym-pdb driver)."""

    def __init__(self, task, kind: str):
        from gym_pdb.sandbox import make_sandbox

        self.sandbox = make_sandbox(kind, warm=False)  # bare: a fresh interpreter per command
        self.sandbox.reset_workspace(task.encoded_files())
        self.env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

    def start(self, argv):
        proc = self.sandbox.spawn([self.sandbox.info.python, *argv], env=self.env)
        proc.read_until(b"(Pdb) ", 30, 1 << 20)
        return proc

    def command(self, proc, line: bytes):
        proc.write(line)
        proc.read_until(b"(Pdb) ", 30, 1 << 20)

    def stop(self, proc):
        proc.kill()

    def run(self, argv):
        self.sandbox.run([self.sandbox.info.python, *argv], timeout=120, env=self.env)

    def close(self):
        self.sandbox.close()


def bench_floor(suite: str, task_id: str, reps: int, kind: str = "local") -> dict[str, dict]:
    task = PDBEnv(suite=suite).tasks[task_id]
    floor = HostFloor(task) if kind == "local" else SandboxFloor(task, kind)
    try:
        results = {}
        for name, argv in (
            ("bare pdb: start to first prompt (python)", ["-m", "pdb", task.entrypoint]),
            ("bare pytest --trace: start to first prompt", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--trace", "test.py"]),
        ):  # fmt: skip
            samples = []
            for i in range(reps + 2):
                start = time.perf_counter()
                proc = floor.start(argv)
                if i >= 2:
                    samples.append(time.perf_counter() - start)
                floor.stop(proc)
            results[name] = stats(samples)
        proc = floor.start(["-m", "pdb", task.entrypoint])
        results["bare pdb: p 1+1 round trip"] = stats(timed(lambda: floor.command(proc, b"p 1+1\n"), reps * 10))
        floor.stop(proc)
        results["bare pytest run"] = stats(
            timed(lambda: floor.run(["-m", "pytest", "-q", "-p", "no:cacheprovider", *task.test_files]), max(5, reps // 3), warmup=1)
        )
        return results
    finally:
        floor.close()


def bench_parallel(suite: str, task_id: str, kind: str, n_envs: int = 8, seconds: float = 5.0) -> dict[str, float]:
    """Steps per second of n envs stepping at once (a pdb p each), one thread per env."""
    import threading

    envs = [PDBEnv(suite=suite, sandbox=kind) for _ in range(n_envs)]
    try:
        for env in envs:
            env.reset(options={"task_id": task_id})
            env.step("pdb start pytest test.py")
        counts = [0] * n_envs
        stop = time.monotonic() + seconds

        def worker(i):
            while time.monotonic() < stop:
                envs[i].step("pdb p 1+1")
                counts[i] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_envs)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        return {"envs": n_envs, "steps_per_s": sum(counts) / elapsed}
    finally:
        for env in envs:
            env.close()


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
        floor = bench_floor(suite, task_id, args.reps, args.sandbox)
        report["tasks"][f"{suite}/{task_id}"] = {"env": env_rows, "floor": floor, "ratios": ratios(env_rows, floor)}
    suite, task_id = tasks[0]
    report["parallel"] = bench_parallel(suite, task_id, args.sandbox)

    print(f"# bench_env: {report['machine']}, load {report['load'][0]:.2f}, {report['date']}, sandbox {args.sandbox}\n")
    for name, res in report["tasks"].items():
        print(f"## {name}")
        print(f"{'operation':52s} {'p50 ms':>9s} {'p95 ms':>9s}  target")
        for op, s in {**res["env"], **res["floor"]}.items():
            target = ""
            if op in TARGETS.get(args.sandbox, {}):
                label, ok = TARGETS[args.sandbox][op]
                target = f"{label}: {'met' if ok(s) else 'NOT met'}"
            print(f"{op:52s} {s['p50']:9.3f} {s['p95']:9.3f}  {target}")
        for label, value in res["ratios"].items():
            print(f"  ratio {label}: {value:.2f}")
        print()
    par = report["parallel"]
    print(f"{par['envs']} envs stepping in parallel (pdb p, one thread each): {par['steps_per_s']:.0f} steps/s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
