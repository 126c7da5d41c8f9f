"""A scripted debugging episode on a PDB-Demo-v0 task, printed as a transcript.

Starts pdb under pytest, sets a breakpoint in the buggy loop, continues to it,
inspects the loop bounds, rewrites the off-by-one and runs the tests.

    python examples/quickstart.py [--sandbox local|docker]
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import gym_pdb  # noqa: F401  (registers the environments)

ACTIONS = [
    "view solution.py",
    "eval",
    {"name": "pdb", "arguments": {"command": "start", "runner": "pytest", "file": "test.py::test_windows_of_two"}},
    "pdb b solution.py:7",
    "pdb c",
    "pdb p start, values, len(values) - window",
    "rewrite solution.py 6:6\n    for start in range(len(values) - window + 1):",
    "eval",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default=None, help="local (default) or docker")
    args = parser.parse_args()

    env = gym.make("PDB-Demo-v0", sandbox=args.sandbox, render_mode="ansi")
    obs, info = env.reset(seed=0, options={"task_id": "running_mean"})
    total = 0.0
    for action in ACTIONS:
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        if terminated or truncated:
            break
    print(env.render())
    print(f"\nresolved: {info['resolved']}  tests: {info['tests_passed']}/{info['tests_total']}  "
          f"return: {total}  steps: {info['step']}")  # fmt: skip
    env.close()
    return 0 if info["resolved"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
