"""The trace tool beside eval: a test that makes N calls of workspace functions, traced and evaluated.

    python benchmarks/bench_trace.py [--calls 10000] [--reps 7] [--sandbox local|docker] [--json out.json]

The task is made here: a recursive function and a loop of helper calls, N
calls in all, in one test. For each repetition it times ``eval`` and
``trace FILE::TEST`` through the env (what the agent waits for) and prints
their medians, the ratio against the target (trace within 2x eval + 100 ms)
and the trace's observation size against the output budget. It prints
figures, and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
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
