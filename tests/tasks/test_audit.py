"""The data audit: statuses, exclusion lists, a sample of every suite, the command."""

from __future__ import annotations

import json

import pytest

from gym_pdb.cli import main
from gym_pdb.tasks.audit import STATUSES, AuditRecord, audit_tasks, broken_reason, sample_tasks
from gym_pdb.tasks.broken import load_broken
from gym_pdb.tasks.check import Verdict
from gym_pdb.tasks.gold import gold_hash, load_verified
from gym_pdb.tasks.suites import SUITES, load_suite
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.run import Timeouts

DATA_SUITES = [name for name in SUITES if name != "Synthetic"]
TEST = "from prog import f\n\n\ndef test_f():\n    assert f(2) == 4\n\n\ndef test_g():\n    assert f(0) == 0\n"


def task(task_id: str, program: str, test: str = TEST, gold: str | None = None) -> Task:
    return Task(task_id, "crafted", {"prog.py": program, "test.py": test}, gold_files={"prog.py": gold} if gold else None)


def test_each_status_from_crafted_tasks():
    tasks = [
        task("ok", "def f(x):\n    return x + x + 1\n", gold="def f(x):\n    return x + x\n"),
        task("passes", "def f(x):\n    return x * 2\n"),
        task("gold-fails", "def f(x):\n    return x\n", gold="def f(x):\n    return x - 1\n"),
        task("module", "import not_a_module_anywhere\n\ndef f(x):\n    return x\n"),
        task("no-tests", "def f(x):\n    return x\n", test="from prog import f\n"),
        task("hang", "def f(x):\n    while x:\n        pass\n    return x\n", gold="def f(x):\n    return 2 * x\n"),
        task("syntax-bug", "def f(x)\n    return x\n", gold="def f(x):\n    return 2 * x\n"),
        task("fragment", "...\n"),
    ]
    records = {r.task_id: r for r in audit_tasks(tasks, workers=2, timeouts=Timeouts(test=1.0, run=20))}
    assert [r.task_id for r in audit_tasks(tasks[:2], workers=2)] == ["ok", "passes"]  # input order kept
    assert {k: r.status for k, r in records.items()} == {
        "ok": "ok", "passes": "buggy-passes", "gold-fails": "gold-fails", "module": "missing-module",
        "no-tests": "error", "hang": "timeout", "syntax-bug": "ok", "fragment": "error",
    }  # fmt: skip
    assert records["fragment"].detail == "its program defines no function or class (a fragment, not a program)"
    assert records["module"].detail == "not_a_module_anywhere"
    assert records["hang"].buggy.timed_out and records["hang"].buggy.passed == 1 and records["hang"].gold.resolved
    assert records["gold-fails"].gold.passed == 0 and records["ok"].gold.resolved


def verdict(**kw) -> Verdict:
    base = dict(passed=0, total=2, resolved=False, timed_out=False, missing_module=None, collect_error="")
    return Verdict(**{**base, **kw})


def test_what_counts_as_broken():
    def record(status, detail="", gold=None):
        return AuditRecord("s", "t", status, detail, verdict(), gold)

    assert broken_reason(record("ok")) is None
    assert broken_reason(record("gold-fails")) is None  # it only loses its gold
    assert broken_reason(record("missing-module", "torch")) is None  # the sandbox image has torch
    assert "'gymnastics'" in broken_reason(record("missing-module", "gymnastics"))
    assert "passes every test" in broken_reason(record("buggy-passes", "3/3 tests pass"))
    assert broken_reason(record("timeout", gold=verdict(passed=2, resolved=True))) is None  # the hang is the bug
    assert "no gold" in broken_reason(record("timeout"))


@pytest.mark.parametrize("suite", DATA_SUITES)
def test_exclusion_lists_apply_by_default(suite, data_dir):
    folder = SUITES[suite].folder
    broken = load_broken(folder)
    everything = load_suite(suite, data_dir, include_broken=True)
    default = load_suite(suite, data_dir)
    assert set(broken) <= set(everything)
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in broken.values())
    assert len(default) == len(everything) - len(broken) and not set(broken) & set(default)


@pytest.mark.parametrize("suite", DATA_SUITES)
def test_a_sample_of_each_suite_audits_as_the_lists_say(suite, data_dir):
    folder = SUITES[suite].folder
    tasks = SUITES[suite].load(data_dir, include_broken=True, verified_only=False)
    sample = sample_tasks(tasks, 2, seed=1)
    broken, verified = load_broken(folder), load_verified(folder)
    for record in audit_tasks(sample, workers=2):
        assert record.status in STATUSES
        listed = broken.get(record.task_id)
        if record.status == "buggy-passes":
            assert listed and "passes every test" in listed
        elif listed is None:
            assert not record.buggy.resolved
        entry = verified.get(record.task_id, {})
        if entry.get("gold"):
            assert record.gold.resolved and gold_hash(tasks[record.task_id].gold_files) == entry["gold"]


def test_audit_command_writes_a_report(data_dir, tmp_path, capsys):
    report = tmp_path / "out" / "audit.json"
    code = main(["audit", "MiniNightmare", "--data-dir", str(data_dir), "--sample", "2", "--quiet", "--output", str(report)])
    assert code == 0
    out = capsys.readouterr().out
    assert "| suite | tasks | ok | buggy-passes | gold-fails | missing-module | error | timeout |" in out
    data = json.loads(report.read_text())
    assert len(data["tasks"]) == 2 and sum(data["counts"]["mini_nightmare"].values()) == 2
    assert {"buggy", "gold", "status", "detail"} <= set(data["tasks"][0])
    assert main(["audit", "NoSuchSuite", "--quiet"]) == 2
    assert "unknown suite" in capsys.readouterr().err
    assert main(["audit", "MiniNightmare", "--sample", "1", "--write-lists", "--quiet", "--output", str(report)]) == 2
