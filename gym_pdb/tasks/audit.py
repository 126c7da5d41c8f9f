"""The data audit: does every task's buggy program fail, and does its gold fix pass?

``gym-pdb audit [SUITE...]`` runs each task's tests twice in the sandbox: on
the buggy program (at least one test must fail) and on the gold fix where one
is known (every test must pass). Each task gets one status:

``ok``              the buggy program fails, the gold (if any) passes
``buggy-passes``    the buggy program passes every test: nothing to debug
``gold-fails``      the gold fix fails a test (it is then never attached)
``missing-module``  a test run needs a module the sandbox lacks (named in ``detail``)
``error``           the tests cannot run at all (no test collected, a broken test file),
                    or the program defines no function or class (a fragment: nothing to debug)
``timeout``         the buggy program's tests run out of time (a hang)

The report is JSON (every task with both verdicts) plus a table per suite.
``--write-lists`` turns a full audit into the package's exclusion lists
(``gym_pdb/tasks/broken/<folder>.json``) and verified-gold lists.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gym_pdb.tasks.check import CHECK_TIMEOUTS, SandboxPool, Verdict, run_files
from gym_pdb.tasks.task import Task
from gym_pdb.verdict import expected as expected_tests
from gym_pdb.verdict.result import Expected
from gym_pdb.verdict.run import Timeouts

STATUSES = ("ok", "buggy-passes", "gold-fails", "missing-module", "error", "timeout")

#: Modules the sandbox image provides (docker/packages.txt): a task needing one of
#: these is not broken, only unrunnable in a thinner local venv.
SANDBOX_MODULES = frozenset(
    {"pytest", "numpy", "pandas", "scipy", "sklearn", "matplotlib", "seaborn", "networkx", "flask", "z3",
     "autograd", "torch", "cv2"}
)  # fmt: skip


@dataclass
class AuditRecord:
    """The audit of one task."""

    suite: str
    task_id: str
    status: str
    detail: str
    buggy: Verdict
    gold: Verdict | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def classify(buggy: Verdict, gold: Verdict | None) -> tuple[str, str]:
    """One status (and a detail) from the verdicts on the buggy program and on the gold fix."""
    for verdict in (buggy, gold):
        if verdict is not None and verdict.missing_module:
            return "missing-module", verdict.missing_module
    if buggy.total == 0:
        return "error", buggy.collect_error or "no test was collected"
    if buggy.resolved:
        return "buggy-passes", f"{buggy.passed}/{buggy.total} tests pass"
    if buggy.timed_out:
        return "timeout", "the buggy program's tests ran out of time"
    if gold is not None and not gold.resolved:
        why = "timed out" if gold.timed_out else (gold.collect_error or f"{gold.passed}/{gold.total} tests pass")
        return "gold-fails", why
    return "ok", ""


def has_code(task: Task) -> bool:
    """Whether one of the task's editable programs defines a function or a class."""
    programs = [t for p, t in task.files.items() if p.endswith(".py") and task.is_editable(p) and task.is_visible(p)]
    return any(re.search(r"^\s*(async\s+def|def|class)\s+\w+", text, flags=re.M) for text in programs)


def audit_task(pool: SandboxPool, task: Task, timeouts: Timeouts = CHECK_TIMEOUTS) -> AuditRecord:
    start = time.monotonic()
    sandbox = pool.for_task(task)
    buggy = Verdict.of(task, run_files(sandbox, task, timeouts=timeouts))
    gold = None
    if task.gold_files:
        gold = Verdict.of(task, run_files(sandbox, task, task.gold_files, timeouts=timeouts))
    status, detail = classify(buggy, gold)
    reference = gold if gold is not None else buggy
    expected_tests.remember(task, Expected.from_dict(reference.expected) if reference.expected else None)
    if not has_code(task) and status not in ("missing-module", "buggy-passes"):
        status, detail = "error", "its program defines no function or class (a fragment, not a program)"
    return AuditRecord(task.suite, task.id, status, detail, buggy, gold, round(time.monotonic() - start, 3))


def audit_tasks(
    tasks: Iterable[Task],
    workers: int | None = None,
    timeouts: Timeouts = CHECK_TIMEOUTS,
    sandbox: str | None = "local",
    progress: Callable[[AuditRecord], None] | None = None,
) -> list[AuditRecord]:
    """Audit ``tasks`` in parallel (one sandbox per worker); records come back in input order."""
    tasks = list(tasks)
    workers = workers or os.cpu_count() or 1
    with SandboxPool(sandbox) as pool, ThreadPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(audit_task, pool, task, timeouts) for task in tasks]
        records = []
        for future in futures:
            record = future.result()
            if progress is not None:
                progress(record)
            records.append(record)
    return records


@dataclass
class AuditReport:
    records: list[AuditRecord] = field(default_factory=list)

    def counts(self) -> dict[str, Counter]:
        table: dict[str, Counter] = {}
        for r in self.records:
            table.setdefault(r.suite, Counter())[r.status] += 1
        return table

    def to_json(self) -> dict:
        return {
            "counts": {suite: dict(c) for suite, c in self.counts().items()},
            "tasks": [r.to_dict() for r in self.records],
        }

    def table(self) -> str:
        """A Markdown table of the counts per suite, with the missing modules named."""
        head = ["suite", "tasks", *STATUSES]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for suite, counts in self.counts().items():
            row = [suite, str(sum(counts.values()))] + [str(counts.get(s, 0)) for s in STATUSES]
            lines.append("| " + " | ".join(row) + " |")
        modules = Counter(r.detail for r in self.records if r.status == "missing-module")
        if modules:
            lines.append("")
            lines.append("missing modules: " + ", ".join(f"{m} ({n})" for m, n in modules.most_common()))
        return "\n".join(lines)


def broken_reason(record: AuditRecord) -> str | None:
    """Why a task is left out of its suite by default, or None when it stays.

    A missing module the sandbox image provides does not count: the task runs
    there. A gold that fails only loses its gold. A hang whose gold passes is
    the bug itself (an infinite loop), so the task stays.
    """
    if record.status == "missing-module" and record.detail not in SANDBOX_MODULES:
        return f"needs the module {record.detail!r}, which the sandbox does not provide"
    if record.status == "buggy-passes":
        return f"the buggy program passes every test ({record.detail})"
    if record.status == "error":
        return f"the task cannot be debugged: {record.detail}"
    if record.status == "timeout" and not (record.gold and record.gold.resolved):
        return "the buggy program's tests run out of time, and no gold fix shows they can pass in time"
    return None


def write_lists(
    records: Sequence[AuditRecord], suites: Mapping[str, tuple[str, Mapping[str, Task]]], directory: Path | None = None
) -> list[Path]:
    """Write each audited suite's exclusion list and verified-gold list.

    ``suites``: suite name -> (folder, the tasks audited, with their candidate golds).
    """
    from gym_pdb.tasks import gold
    from gym_pdb.tasks.broken import broken_dir

    written = []
    for folder, tasks in suites.values():
        recs = {r.task_id: r for r in records if r.suite == folder}
        broken = {tid: reason for tid, r in recs.items() if (reason := broken_reason(r))}
        path = (directory or broken_dir()) / f"{folder}.json"
        path.write_text(json.dumps(dict(sorted(broken.items(), key=lambda kv: gold.natural_key(kv[0]))), indent=1) + "\n")
        written.append(path)
        gold_passed = {tid for tid, r in recs.items() if r.gold is not None and r.gold.resolved}
        entries = gold.verified_entries(tasks, gold_passed.__contains__)
        if entries:
            written.append(gold.write_verified(folder, entries, directory))
    return written


def sample_tasks(tasks: Mapping[str, Task], n: int | None, seed: int = 0) -> list[Task]:
    ids = list(tasks)
    if n is not None and n < len(ids):
        ids = sorted(random.Random(seed).sample(ids, n), key=ids.index)
    return [tasks[i] for i in ids]


# -- command line ----------------------------------------------------------------
def cmd_audit(args: argparse.Namespace) -> int:
    from gym_pdb.tasks.suites import SUITES

    names = args.suites or [n for n in SUITES if n != "Synthetic"]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; known: {', '.join(SUITES)}", file=sys.stderr)
        return 2
    tasks: list[Task] = []
    loaded = {}
    for name in names:
        suite_tasks = SUITES[name].load(args.data_dir, include_broken=True, verified_only=False)
        loaded[name] = (SUITES[name].folder, suite_tasks)
        tasks += sample_tasks(suite_tasks, args.sample, args.seed)
    timeouts = Timeouts(test=args.test_timeout, run=args.eval_timeout)
    bar = _progress_bar(len(tasks), args.quiet)
    start = time.monotonic()
    records = audit_tasks(tasks, workers=args.workers, timeouts=timeouts, progress=bar.update)
    bar.close()
    report = AuditReport(records)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report.to_json(), indent=1) + "\n")
    print(report.table())
    print(f"\n{len(records)} tasks in {time.monotonic() - start:.0f}s; report: {output}")
    if args.write_lists:
        if args.sample is not None:
            print("--write-lists needs a full audit (no --sample)", file=sys.stderr)
            return 2
        for path in write_lists(records, loaded):
            print(f"wrote {path}")
    return 0


class _progress_bar:
    """tqdm when available and wanted, else nothing."""

    def __init__(self, total: int, quiet: bool):
        self._bar = None
        if not quiet:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, unit="task", file=sys.stderr)
            except ImportError:
                pass

    def update(self, record: AuditRecord) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"{record.suite}/{record.task_id}: {record.status}", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``gym-pdb audit`` to the CLI's subcommands."""
    p = sub.add_parser("audit", help="run every task's tests on its buggy program and on its gold fix")
    p.add_argument("suites", nargs="*", metavar="SUITE", help="suite names (default: every data suite)")
    p.add_argument("--data-dir", default=None, help="folder holding the suites (default: GYM_PDB_DATA, then the cache)")
    p.add_argument("--sample", type=int, default=None, help="audit only N tasks per suite, drawn with --seed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: one per CPU)")
    p.add_argument("--test-timeout", type=float, default=CHECK_TIMEOUTS.test, help="seconds per test")
    p.add_argument("--eval-timeout", type=float, default=CHECK_TIMEOUTS.run, help="seconds per test run")
    p.add_argument("--output", default="audit-report.json", help="where to write the JSON report")
    p.add_argument("--write-lists", action="store_true", help="write the package's exclusion and verified-gold lists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_audit)
