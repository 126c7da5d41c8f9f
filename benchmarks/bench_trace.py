"""The trace tool beside eval: a test that makes N calls of workspace functions, traced and evaluated.

    python benchmarks/bench_trace.py [--calls 10000] [--reps 7] [--sandbox local|docker] [--json out.json]
    python benchmarks/bench_trace.py --python312 PYTHON [--calls 10000] [--reps 7]

The task is made here: a recursive function and a loop of helper calls, N
calls in all, in one test. For each repetition it times ``eval`` and
``trace FILE::TEST`` through the env (what the agent waits for) and prints
their medians, the ratio against the target (trace within 2x eval + 100 ms)
and the trace's observation size against the output budget. With
``--python312`` it instead times the tracer itself under that 3.12+
interpreter on the same program, settrace against sys.monitoring (the
folded calls are where they differ), beside the untraced run. It prints
figures, and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from gym_pdb.env import PDBEnv
from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS

PROGRAM = '''
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def step(total, value):
    if value % 3 == 0:
        return total + value
    return total - 1


def work(calls):
    """About ``calls`` calls of workspace functions: a recursion and a loop."""
    out = fib(14)  # 1,219 calls
    total = 0
    for value in range(calls - 1220):
        total = step(total, value)
    return out, total
'''

TEST = """
from solution import work


def test_work():
    assert work({calls}) == (377, {expected})
"""


def make_task(calls: int) -> Task:
    total = 0
    for value in range(calls - 1220):
        total = total + value if value % 3 == 0 else total - 1
    files = {"solution.py": PROGRAM, "test.py": TEST.format(calls=calls, expected=total)}
    return Task(id=f"calls_{calls}", suite="Bench", files=files, test_files=["test.py"], readonly=["test.py"])


def timed(env: PDBEnv, action: str) -> tuple[float, str]:
    start = time.perf_counter()
    observation, *_ = env.step(action)
    return time.perf_counter() - start, observation


# Run by the 3.12+ interpreter: times work(CALLS) untraced and under each mechanism; prints JSON medians (ms).
MECHANISMS = """
import importlib.util, json, statistics, sys, time
support, workspace, calls, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, support)
import trace_calls
spec = importlib.util.spec_from_file_location("solution", workspace + "/solution.py")
solution = importlib.util.module_from_spec(spec)
spec.loader.exec_module(solution)
out = {"python": sys.version.split()[0]}
times = {"untraced": [], "settrace": [], "monitoring": []}
for _ in range(reps):  # the mechanisms in turn, so that a busy moment hits each alike
    for mechanism in times:
        tracer = trace_calls.Tracer(workspace, trace_calls.read_spec("{}"), mechanism)
        start = time.perf_counter()
        if mechanism != "untraced":
            tracer.start()
        solution.work(calls)
        if mechanism != "untraced":
            tracer.stop()
            tracer.record("work", "passed")
        times[mechanism].append(time.perf_counter() - start)
out.update((name, round(statistics.median(each) * 1000, 2)) for name, each in times.items())
print(json.dumps(out))
"""


def mechanisms(python: str, calls: int, reps: int) -> None:
    """The tracer alone under a 3.12+ ``python``: settrace against sys.monitoring on ``calls`` calls."""
    support = Path(__file__).resolve().parent.parent / "gym_pdb" / "sandbox" / "support"
    with tempfile.TemporaryDirectory() as workspace:
        Path(workspace, "solution.py").write_text(PROGRAM)
        done = subprocess.run(
            [python, "-c", MECHANISMS, str(support), workspace, str(calls), str(reps)],
            capture_output=True, text=True, check=True, cwd=workspace,
        )  # fmt: skip
    figures = json.loads(done.stdout)
    print(f"{calls} calls, the tracer alone under Python {figures['python']}, median of {reps}:")
    for name in ("untraced", "settrace", "monitoring"):
        print(f"  {name:10} {figures[name]:8.1f} ms")
    print(f"  monitoring/settrace = {figures['monitoring'] / figures['settrace']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--json", default=None)
    parser.add_argument("--python312", default=None, help="time the tracer's two mechanisms under this 3.12+ python")
    args = parser.parse_args()
    if args.python312:
        mechanisms(args.python312, args.calls, args.reps)
        return
    task = make_task(args.calls)
    env = PDBEnv(tasks=[task], tools=[*DEFAULT_TOOLS, "trace"], sandbox=args.sandbox)
    env.reset(options={"task_id": task.id})
    env.step("eval")  # warm both paths once
    env.step("trace test.py::test_work")
    evals, traces, sizes = [], [], []
    observation = ""
    for _ in range(args.reps):
        seconds, observation = timed(env, "eval")
        assert "1/1 tests passed" in observation, observation
        evals.append(seconds)
        seconds, observation = timed(env, "trace test.py::test_work")
        traces.append(seconds)
        sizes.append(len(observation))
    budget = env.settings.trace_output_chars
    env.close()
    eval_s, trace_s = statistics.median(evals), statistics.median(traces)
    limit = 2 * eval_s + 0.1
    figures = {
        "calls": args.calls,
        "sandbox": args.sandbox,
        "eval_ms": round(eval_s * 1000, 1),
        "trace_ms": round(trace_s * 1000, 1),
        "target_ms": round(limit * 1000, 1),
        "trace_over_target": round(trace_s / limit, 3),
        "trace_over_eval": round(trace_s / eval_s, 3),
        "observation_chars": max(sizes),
        "output_budget": budget,
    }
    print(f"{args.calls} calls, {args.sandbox} sandbox, median of {args.reps}:")
    print(f"  eval   {figures['eval_ms']:8.1f} ms")
    print(f"  trace  {figures['trace_ms']:8.1f} ms  ({figures['trace_over_eval']}x eval)")
    print(f"  target {figures['target_ms']:8.1f} ms  (2x eval + 100 ms): trace/target = {figures['trace_over_target']}")
    print(f"  observation {figures['observation_chars']} characters, budget {budget}")
    print("first lines of the trace:\n" + "\n".join(observation.splitlines()[:8]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
