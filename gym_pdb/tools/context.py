"""What the tools work on: the episode's task, files, sandbox and pdb session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gym_pdb.sandbox.base import Sandbox, safe_relpath
from gym_pdb.sandbox.session import PdbSession
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.result import EvalResult, Expected
from gym_pdb.verdict.run import Timeouts

MAX_NAME_BYTES = 200  # the system's limit is 255; a write goes through NAME.gym-pdb-PID.tmp
MAX_PATH_BYTES = 1024


@dataclass
class ToolSettings:
    """Time and size budgets of the tools."""

    pdb_timeout: float = 10.0
    test_timeout: float = 5.0
    eval_timeout: float = 120.0
    eval_output_chars: int = 6000
    pdb_output_bytes: int = 16384
    view_max_lines: int = 400
    grep_max_results: int = 50
    trace_output_chars: int = 6000
    trace_value_chars: int = 80

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(test=self.test_timeout, run=self.eval_timeout)


class Workspace:
    """The episode's files as the agent sees them, mirrored into the sandbox.

    The host keeps the text of every task file, so view, grep and listdir never
    touch the sandbox; writes go to both.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._task: Task | None = None
        self.files: dict[str, str] = {}

    @property
    def task(self) -> Task:
        """The episode's task; a workspace that has not been reset has none, and no tool may run on it."""
        if self._task is None:
            raise RuntimeError("the workspace has no task: reset it first")
        return self._task

    def reset(self, task: Task) -> None:
        self._task = task
        self.files = dict(task.files)
        readonly = [p for p in self.files if not task.is_editable(p)]
        self.sandbox.reset_workspace(task.encoded_files(), readonly=readonly)

    def check_path(self, path: str) -> str:
        """Normalise ``path``; raise ValueError for paths outside or hidden."""
        rel = safe_relpath(path)
        if rel != "." and not self.task.is_visible(rel):
            raise ValueError(f"{path!r} does not exist or is hidden")
        return rel

    def exists(self, path: str) -> bool:
        return path in self.files

    def read(self, path: str) -> str:
        rel = self.check_path(path)
        if rel not in self.files:
            raise ValueError(f"no file {path!r}; see listdir() for the files")
        return self.files[rel]

    def editable(self, path: str) -> bool:
        return self.task.is_editable(path)

    def check_new_file(self, rel: str) -> None:
        """Raise ValueError where a file cannot be created at ``rel`` (a normalised path)."""
        names = rel.split("/")
        if len(rel.encode()) > MAX_PATH_BYTES or max(len(name.encode()) for name in names) > MAX_NAME_BYTES:
            raise ValueError(f"the path is too long (at most {MAX_NAME_BYTES} bytes a name, {MAX_PATH_BYTES} in all)")
        if any(p.startswith(rel + "/") for p in self.files):
            raise ValueError(f"{rel} is a folder; name a file")
        for i in range(1, len(names)):
            if "/".join(names[:i]) in self.files:
                raise ValueError(f"cannot create {rel}: {'/'.join(names[:i])} is a file")

    def write(self, path: str, text: str) -> None:
        try:
            self.sandbox.write_file(path, text.encode("utf-8"))
        except OSError as exc:  # the program made a file or folder in the way
            raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.files[path] = text

    def visible_paths(self) -> list[str]:
        return sorted(p for p in self.files if self.task.is_visible(p))


@dataclass
class ToolContext:
    """Everything a tool call may use; one per environment, renewed at each reset."""

    sandbox: Sandbox
    workspace: Workspace
    session: PdbSession
    settings: ToolSettings = field(default_factory=ToolSettings)
    last_eval: EvalResult | None = None
    expected: Expected | None = None  # the tests the task's runs must pass
    episode: int = 0  # counts resets: a tool that keeps state of its own knows a new episode by it
    subagent: Any = None  # the debug tool's subagent (tools.debug.Subagent), attached by the agent through the env

    @property
    def task(self) -> Task:
        return self.workspace.task

    def reset(self, task: Task) -> None:
        """Begin an episode of ``task``: a fresh pdb session (no breakpoints), no test run yet, the task's files.

        The expected tests are left to the caller, which may need a trusted run
        of the task's files to know them.

        Raises:
            SandboxError: the sandbox could not take the files (the caller makes a new one).
        """
        self.session.reset()
        self.episode += 1
        self.last_eval = None
        self.expected = None
        self.workspace.reset(task)
