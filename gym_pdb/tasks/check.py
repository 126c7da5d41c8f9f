"""Run a task's tests on its buggy program or on its gold fix, outside an episode.

The audit and the bug generator use this to know whether a program fails its
tests, passes them, or hangs. It goes through the verdict layer
(:func:`gym_pdb.verdict.run.run_tests`), as an agent's ``eval`` does, so a
verdict here is what the eval would report.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gym_pdb.sandbox import Sandbox, make_sandbox
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.expected import from_run
from gym_pdb.verdict.result import EvalResult
from gym_pdb.verdict.reward import earns
from gym_pdb.verdict.run import Timeouts, run_tests

#: Time limits of a check: the env's per-test limit, a shorter bound on a whole run.
CHECK_TIMEOUTS = Timeouts(test=5.0, run=60.0)

_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")


def run_files(
    sandbox: Sandbox,
    task: Task,
    files: Mapping[str, str] | None = None,
    timeouts: Timeouts = CHECK_TIMEOUTS,
) -> EvalResult:
    """Lay ``task`` into ``sandbox`` (``files`` replacing some of its files) and run its tests."""
    content = dict(task.files)
    content.update(files or {})
    readonly = [p for p in content if not task.is_editable(p)]
    sandbox.reset_workspace({p: t.encode("utf-8") for p, t in content.items()}, readonly=readonly)
    return run_tests(sandbox, task, timeouts, files=content)


def missing_module(task: Task, result: EvalResult) -> str | None:
    """The third-party module the run could not import, if that is why it failed.

    A module of the task itself (``solution``, ``<id>_code``) that fails to
    import is the bug, not a missing dependency.
    """
    texts = list(result.collect_errors) + [t.details for t in result.tests if t.outcome != "passed"]
    local = {p[:-3].replace("/", ".") for p in task.files if p.endswith(".py")}
    local |= {p.split("/")[0] for p in task.files if "/" in p}
    for text in texts:
        for name in _MISSING_MODULE.findall(text):
            if name not in local and name.split(".")[0] not in local:
                return name.split(".")[0]
    return None


def timed_out(result: EvalResult) -> bool:
    """Whether the run or one of its tests ran out of time (the eval plugin fails such a test)."""
    return result.timed_out or any(
        t.outcome == "timeout" or (t.outcome != "passed" and "TestTimeout" in t.details) for t in result.tests
    )


class SandboxPool:
    """One sandbox per thread, for running checks in parallel; ``close()`` removes them all."""

    def __init__(self, kind: str | None = "local", **kwargs: Any) -> None:
        self.kind = kind
        self.kwargs = kwargs
        self._local = threading.local()
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()

    def get(self) -> Sandbox:
        sandbox = getattr(self._local, "sandbox", None)
        if sandbox is None:
            sandbox = make_sandbox(self.kind, **self.kwargs)
            self._local.sandbox = sandbox
            with self._lock:
                self._all.append(sandbox)
        return sandbox

    def for_task(self, task: Task) -> Sandbox:
        """This thread's sandbox for ``task``: for a repository task, one on its image (Docker only), its tree read."""
        if not task.repo:
            return self.get()
        from gym_pdb.sandbox.docker.repository import RepositorySandbox
        from gym_pdb.tasks.repo_episode import fits, load_tree, repository_sandbox
        from gym_pdb.tasks.repository import RepoSpec

        spec = RepoSpec.from_dict(task.repo)
        current = getattr(self._local, "repository", None)
        if isinstance(current, RepositorySandbox) and fits(current, spec):
            sandbox = current
        else:
            if current is not None:
                current.close()
            sandbox = repository_sandbox(spec, self.kind, self.kwargs)
            self._local.repository = sandbox
            with self._lock:
                self._all.append(sandbox)
        load_tree(task, sandbox)
        return sandbox

    def close(self) -> None:
        with self._lock:
            sandboxes, self._all = self._all, []
        for sandbox in sandboxes:
            sandbox.close()

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Verdict:
    """What one run of the tests showed, in a few words."""

    passed: int
    total: int
    resolved: bool
    timed_out: bool
    missing_module: str | None
    collect_error: str
    expected: dict[str, list[str]] | None = None  # what this run says a fix must pass (``verdict.expected``)

    @classmethod
    def of(cls, task: Task, result: EvalResult) -> "Verdict":
        error = result.collect_errors[0].strip().splitlines()[-1] if result.collect_errors else ""
        return cls(
            passed=result.passed,
            total=result.total,
            resolved=earns(result),
            timed_out=timed_out(result),
            missing_module=missing_module(task, result),
            collect_error=error[:300],
            expected=expected.to_dict() if (expected := from_run(result)) else None,
        )
