"""Run a task's tests in a sandbox and judge them from the run's authenticated records.

pytest runs with the eval plugin (``sandbox/support/eval_plugin.py``), which
writes the run's records on a record channel keyed for this run only
(``sandbox/support/records.py``). Before the run, the workspace is made to
hold exactly the files the host knows (the task's, with the agent's edits):
what a program left there (a ``conftest.py``, a planted ``.pyc``, a changed
test) is removed or restored, and a changed read-only file is evidence.
"""

from __future__ import annotations

import ast
import hashlib
import secrets
from collections.abc import Mapping

from gym_pdb.sandbox.base import Sandbox
from gym_pdb.sandbox.support import eval_command, eval_run_args
from gym_pdb.sandbox.support.records import KEY_BYTES, RecordReader
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.judge import DEFAULT_TIMEOUTS, Timeouts, judge
from gym_pdb.verdict.result import EvalResult, Expected

__all__ = ["Timeouts", "judge", "run_tests", "static_test_count", "sync_workspace"]


def run_tests(
    sandbox: Sandbox,
    task: Task,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    expected: Expected | None = None,
    files: Mapping[str, str] | None = None,
    synced: list[str] | None = None,
) -> EvalResult:
    """Run ``task``'s tests on the files in ``sandbox`` and judge the run.

    ``files``: what the workspace should hold (default: the task's own); the
    workspace is made to hold exactly that first, unless ``synced`` says the
    caller did (``sync_workspace``'s evidence: another run may already be
    writing caches into the workspace, which a second sync would remove). ``expected``: the tests that
    must pass (``verdict.expected``); without it, every collected test.
    A repository task runs its selected tests (``verdict.repo_run``).
    """
    if task.repo:
        from gym_pdb.verdict.repo_run import run_repo_tests

        return run_repo_tests(sandbox, task, timeouts, expected, files)
    if synced is None:
        evidence = sync_workspace(sandbox, task, task.files if files is None else files)
    else:
        evidence = list(synced)
    info = sandbox.info
    key = secrets.token_bytes(KEY_BYTES)
    args, env = eval_command(info.support_dir, info.workdir)
    argv = [info.python, *args, *eval_run_args(timeouts.test, task.test_files)]
    run = sandbox.run(argv, timeout=timeouts.run, env=env, records_key=key)
    reader = RecordReader(key)
    reader.feed(run.records)
    reader.close(cut=run.timed_out or run.exit_code is None or run.exit_code < 0)
    result = judge(reader.records, expected, lambda: static_test_count(task))
    result.evidence = evidence + reader.problems + result.evidence
    if not result.finished and not run.timed_out and not result.evidence:
        code = run.exit_code
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        result.evidence.append(f"the test process {how} before pytest finished its session")
    end = next((r for r in reader.records if r.get("e") == "end"), None)
    if end is not None and run.exit_code is not None and run.exit_code != end.get("status"):
        result.evidence.append(f"the test process exited with code {run.exit_code} after pytest ended with {end.get('status')}")
    result.timed_out = run.timed_out
    result.elapsed = run.elapsed
    result.output = run.text.replace(info.workdir.rstrip("/") + "/", "")
    for t in result.tests:
        if t.outcome == "running":  # started, never finished: the run was stopped or crashed
            t.outcome = "timeout" if run.timed_out else "error"
    return result


def sync_workspace(sandbox: Sandbox, task: Task, files: Mapping[str, str]) -> list[str]:
    """Make the workspace hold exactly ``files``; returns the evidence of tampering found."""
    want = {path: text.encode("utf-8") for path, text in files.items()}
    digests = {path: hashlib.sha256(data).hexdigest() for path, data in want.items()}
    folders = {"/".join(path.split("/")[:i]) for path in want for i in range(1, path.count("/") + 1)}
    found = sandbox.workspace_digest()
    evidence = []
    stray = sorted(
        path for path, digest in found.items() if not (path in digests or (path in folders and digest == "dir"))
    )
    outer = [p for p in stray if not any(p.startswith(q + "/") for q in stray)]
    if outer:
        sandbox.remove_paths(outer)
    for path, data in want.items():
        if found.get(path) == digests[path]:
            continue
        readonly = not task.is_editable(path)
        if readonly and path in found:
            evidence.append(f"the read-only file {path} was changed in the sandbox")
        sandbox.write_file(path, data, readonly=readonly)
    return evidence


def static_test_count(task: Task) -> int:
    """Count test functions by reading the test files (used when collection fails)."""
    count = 0
    for path in task.test_files:
        try:
            tree = ast.parse(task.files.get(path, ""))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                count += 1
            elif isinstance(node, ast.ClassDef):
                is_test_class = node.name.startswith("Test") or any(
                    getattr(b, "attr", getattr(b, "id", "")) == "TestCase" for b in node.bases
                )
                if is_test_class:
                    count += sum(
                        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
                        for n in node.body
                    )
    return count
