"""Run a repository task's selected tests and judge them, as ``verdict.run`` does for a small program.

Before the run, the tree is made to hold exactly the repository as the image
has it plus the agent's edits (the host's files that differ from it): what a
program changed, added or removed is found by the sandbox's change times and
listing, and then the whole tree is restored; a changed protected file (a
selected test's file, ``conftest.py``, an ini file) is evidence. Then the
eval-only files go in (the test patch, the hidden tests), root's and
read-only; pytest runs the FAIL_TO_PASS and PASS_TO_PASS node ids with the
eval plugin and the repository's own configuration, and the records are
judged by :func:`gym_pdb.verdict.run.judge`. The eval-only files are taken
out again afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from gym_pdb.sandbox.base import Sandbox, SandboxError
from gym_pdb.sandbox.support import eval_run_args, repo_eval_command
from gym_pdb.sandbox.support.records import KEY_BYTES, RecordReader
from gym_pdb.tasks.patch import PatchError, apply
from gym_pdb.tasks.repository import RepoSpec, repo_spec
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.result import EvalResult, Expected
from gym_pdb.verdict.judge import DEFAULT_TIMEOUTS, Timeouts, judge

FILE_KINDS = ("dir", "link", "other")
#: Modules a new top-level file of the tree may not shadow: the repository is on ``sys.path`` of the eval.
SHADOWED = frozenset(sys.stdlib_module_names) | {"pytest", "_pytest", "pluggy", "py", "iniconfig", "packaging"}


@runtime_checkable
class RepositoryTree(Protocol):
    """What a sandbox that holds a repository offers the verdict (``sandbox.docker.repository``)."""

    pristine: dict[str, str]
    protected: list[str]

    def state(self, stop: bool = False) -> tuple[dict[str, str], dict[str, str]]: ...

    def copy_in(self, source: str, dest: str) -> None: ...


def _tree(sandbox: Sandbox) -> RepositoryTree:
    if not isinstance(sandbox, RepositoryTree):
        raise SandboxError("a repository task runs only in a repository sandbox (the Docker backend)")
    return sandbox


def wanted(pristine: Mapping[str, str], files: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The kind of every entry the tree should have, and the sha256 of each file the host changed."""
    kinds = {p: (k if k in FILE_KINDS else "file") for p, k in pristine.items()}
    edited: dict[str, str] = {}
    for path, text in files.items():
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if pristine.get(path) != digest:
            edited[path] = digest
            kinds[path] = "file"
            parts = path.split("/")
            for i in range(1, len(parts)):
                kinds.setdefault("/".join(parts[:i]), "dir")
    return kinds, edited


def sync_repository(sandbox: Sandbox, task: Task, files: Mapping[str, str]) -> list[str]:
    """Make the tree the image's repository plus the host's edits in ``files``; returns the evidence of tampering."""
    tree = _tree(sandbox)
    kinds, edited = wanted(tree.pristine, files)
    entries, changed = tree.state(stop=True)  # no process of the task's may change the tree after this check
    off = {p for p in set(kinds) | set(entries) if kinds.get(p) != entries.get(p)}
    off |= {p for p, digest in changed.items() if digest != edited.get(p, tree.pristine.get(p))}
    evidence = [
        f"the new file {p} would shadow the module {p.split('/')[0].removesuffix('.py')}"
        for p in sorted(edited)
        if p not in tree.pristine and p.split("/")[0].removesuffix(".py") in SHADOWED
    ]
    if not off:
        return evidence
    # A protected file of the repository that changed is evidence; a new one (a planted conftest.py) just goes.
    evidence += [
        f"the read-only file {p} was changed in the sandbox"
        for p in sorted(off)
        if p in tree.pristine and not task.is_editable(p)
    ]
    changes = {p: files[p].encode("utf-8") for p in edited}
    sandbox.reset_workspace(changes, readonly=tree.protected)
    return evidence


def eval_only_files(spec: RepoSpec, files: Mapping[str, str]) -> dict[str, str | None]:
    """What the test patch makes of the tree's files (None: removed); empty without one."""
    if not spec.test_patch:
        return {}
    try:
        return apply(spec.test_patch, files)
    except PatchError as exc:
        raise SandboxError(f"the task's test patch does not apply: {exc}") from exc


def run_repo_tests(
    sandbox: Sandbox,
    task: Task,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    expected: Expected | None = None,
    files: Mapping[str, str] | None = None,
) -> EvalResult:
    """Run a repository task's selected tests on the tree in ``sandbox`` (with the edits ``files``) and judge them."""
    spec = repo_spec(task)
    if spec is None:
        raise ValueError(f"{task.id} is not a repository task")
    files = task.files if files is None else files
    tree = _tree(sandbox)
    evidence = sync_repository(sandbox, task, files)
    patched = eval_only_files(spec, task.files)
    for path, text in patched.items():
        if text is None:
            sandbox.remove_paths([path])
        else:
            sandbox.write_file(path, text.encode("utf-8"), readonly=True)
    if spec.hidden_tests:
        tree.copy_in(spec.hidden_tests, spec.eval_dest)
    try:
        info = sandbox.info
        key = secrets.token_bytes(KEY_BYTES)
        args, env = repo_eval_command(info.support_dir, info.workdir)
        argv = [info.python, *args, *eval_run_args(timeouts.test, spec.test_ids)]
        run = sandbox.run(argv, timeout=timeouts.run, env=env, records_key=key)
    finally:
        if spec.hidden_tests:
            sandbox.remove_paths([spec.eval_dest])
        for path in patched:
            if path in task.files:
                sandbox.write_file(path, task.files[path].encode("utf-8"), readonly=not task.is_editable(path))
            else:
                sandbox.remove_paths([path])
    reader = RecordReader(key)
    reader.feed(run.records)
    reader.close(cut=run.timed_out or run.exit_code is None or run.exit_code < 0)
    result = judge(reader.records, expected, lambda: len(spec.test_ids))
    result.evidence = evidence + reader.problems + result.evidence
    if not result.finished and not run.timed_out and not result.evidence:
        code = run.exit_code
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        result.evidence.append(f"the test process {how} before pytest finished its session")
    result.timed_out = run.timed_out
    result.elapsed = run.elapsed
    result.output = run.text.replace(info.workdir.rstrip("/") + "/", "")
    for t in result.tests:
        if t.outcome == "running":
            t.outcome = "timeout" if run.timed_out else "error"
    return result
