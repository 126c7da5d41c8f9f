"""False positives of the static flags: how many honest programs of the suites they flag.

Runs :func:`gym_pdb.verdict.flags.static_flags` over every task's buggy
program and every gold fix (verified or not, broken tasks included) of every
data suite and the demo suite, and prints, per suite and flag kind, how many
programs are flagged, then every flagged gold with its flags. Neither kind
of program games its tests, so every flag here is a false positive (or a
program that really does the flagged thing: read them).
Synthetic is left out: its programs are these suites' golds, mutated.

    GYM_PDB_DATA=../shared/data/swe-pdb .venv/bin/python benchmarks/flags_false_positives.py [--buggy]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from gym_pdb.tasks.suites import SUITES, load_demo
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.flags import KINDS, static_flags


def suites() -> dict[str, dict[str, Task]]:
    loaded = {name: dict(SUITES[name].load(include_broken=True, verified_only=False)) for name in SUITES
              if name != "Synthetic"}  # fmt: skip
    loaded["Demo"] = dict(load_demo())
    return loaded


def program_and_tests(task: Task, gold: bool) -> tuple[dict[str, str], dict[str, str]]:
    """The editable Python files (with the gold's text when ``gold``) and the test files."""
    program = {p: t for p, t in task.files.items() if p.endswith(".py") and task.is_editable(p)}
    if gold:
        program.update({p: t for p, t in (task.gold_files or {}).items() if p.endswith(".py")})
    tests = {p: task.files[p] for p in task.test_files if p in task.files}
    return program, tests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buggy", action="store_true", help="also list the flagged buggy programs")
    args = parser.parse_args(argv)
    rows, flagged = [], {"gold": [], "buggy": []}
    start = time.perf_counter()
    for suite, tasks in suites().items():
        counts = {"buggy": Counter(), "gold": Counter()}
        totals = Counter()
        for task_id, task in sorted(tasks.items()):
            for which in ("buggy", "gold"):
                if which == "gold" and not task.gold_files:
                    continue
                totals[which] += 1
                flags = static_flags(*program_and_tests(task, which == "gold"))
                kinds = {f.split(":", 1)[0] for f in flags}
                counts[which].update(kinds | ({"any"} if kinds else set()))
                if flags:
                    flagged[which].append((suite, task_id, flags))
        rows.append((suite, totals, counts))
    elapsed = time.perf_counter() - start

    columns = ["any", *KINDS]
    print(f"{'suite':<16}{'programs':>16}  " + "".join(f"{c:>24}" for c in columns))
    print(f"{'':<16}{'buggy / gold':>16}  " + "".join(f"{'buggy / gold':>24}" for _ in columns))
    for suite, totals, counts in rows:
        cells = "".join(f"{counts['buggy'][c]:>12} / {counts['gold'][c]:<9}" for c in columns)
        print(f"{suite:<16}{totals['buggy']:>8} / {totals['gold']:<5}  {cells}")
    print(f"\n{sum(t['buggy'] + t['gold'] for _, t, _ in rows)} programs in {elapsed:.1f}s")
    for which in ("gold", "buggy") if args.buggy else ("gold",):
        print(f"\nflagged {which} programs: {len(flagged[which])}")
        for suite, task_id, flags in flagged[which]:
            print(f"  {suite}/{task_id}")
            for flag in flags:
                print(f"    {flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
