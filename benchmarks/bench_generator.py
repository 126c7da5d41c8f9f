"""Throughput of the bug generator (PDB-Synthetic-v0) and why mutants are rejected.

    python benchmarks/bench_generator.py [--tasks 40] [--workers 2] [--bugs 1 3] [--json out.json]

Generates ``--tasks`` verified tasks from consecutive seeds, ``--workers``
sandboxes in parallel (default: one per CPU), and prints the verified tasks
per second, the mutants tried per task, and the share of mutants rejected by
reason (passes every test, hangs, cannot run, no site for the bugs asked,
source gold fails). Each mutant costs one pytest run in the sandbox; the first
task of each source program costs one more (its gold is checked once). It
prints figures, and passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter

from gym_pdb.tasks.generator import FAMILIES, SyntheticTasks
from gym_pdb.tasks.generator.synthetic import REJECTIONS


def run(tasks: int, workers: int, bugs: tuple[int, int], split: str, sources: list[str], seed: int) -> dict:
    generator = SyntheticTasks(split=split, bugs=bugs, sources=sources)
    try:
        print(f"{len(generator.programs)} source programs in the {split} split")  # loaded outside the timing
        start = time.perf_counter()
        made = generator.generate_many(list(range(seed, seed + tasks)), workers=workers)
        elapsed = time.perf_counter() - start
    finally:
        generator.close()
    stats = Counter(generator.stats)
    tried = sum(stats.values())
    rejected = {r: stats.get(f"rejected:{r}", 0) for r in REJECTIONS}
    families = Counter(f for task in made for f in task.metadata["families"])
    return {
        "tasks": len(made),
        "workers": workers,
        "seconds": round(elapsed, 2),
        "tasks_per_second": round(len(made) / elapsed, 3),
        "mutants_tried": tried,
        "mutants_per_task": round(tried / len(made), 2),
        "rejected_share": {r: round(n / tried, 3) for r, n in rejected.items()},
        "accepted_share": round(stats.get("accepted", 0) / tried, 3),
        "families_in_tasks": {f: families.get(f, 0) for f in FAMILIES},
        "bugs": list(bugs),
        "split": split,
        "sources": sources,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--bugs", type=int, nargs=2, default=(1, 3), metavar=("MIN", "MAX"))
    parser.add_argument("--split", default="train")
    parser.add_argument("--sources", nargs="+", default=["humaneval"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = run(args.tasks, args.workers, tuple(args.bugs), args.split, args.sources, args.seed)
    print(f"{result['tasks']} verified tasks in {result['seconds']}s with {result['workers']} workers "
          f"({result['cpus']} CPUs): {result['tasks_per_second']} tasks/s")  # fmt: skip
    print(f"mutants tried: {result['mutants_tried']} ({result['mutants_per_task']} per task), "
          f"accepted {result['accepted_share']:.1%}")  # fmt: skip
    print("rejected, share of all mutants tried:")
    for reason, share in result["rejected_share"].items():
        print(f"  {reason:12s} {share:6.1%}")
    print("operator families in the accepted tasks: " + ", ".join(f"{f} {n}" for f, n in result["families_in_tasks"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
