"""``gym-pdb mcp``: gym-pdb's tools on a user's own project, in place, over MCP (stdio).

A coding assistant gets a persistent pdb session, line rewrites, view, grep,
listdir and the project's own test command on the folder it is working on.
Unlike an episode, nothing is copied: the workspace *is* the project folder,
read live (the assistant or the user may edit it between calls), and code
runs with the project's interpreter (``--python``) in a local sandbox whose
limits, scrubbed environment and process groups still apply. What
``--readonly`` names is refused to rewrite, and put back if a run changes it.

The tools are the env's own (:mod:`gym_pdb.tools`), on a
:class:`ProjectSandbox` and a task whose files are the folder's; ``eval``
runs the test command and reports its output and exit status (a user's
tests are not an episode's: no expected test list, no verdict).
"""

from __future__ import annotations

import os
import shlex
import shutil
import threading
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gym_pdb.sandbox.base import Limits
from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.sandbox.session import PdbSession
from gym_pdb.serve.mcp_tools import tool_server
from gym_pdb.tasks.task import Task, matches_any
from gym_pdb.tools import Tool, ToolContext, ToolError, ToolResult, ToolSettings, Workspace, make_tools

#: Never shown nor walked: version control, environments, caches, builds.
HIDDEN = [".git/", ".hg/", ".svn/", "__pycache__/", "*.pyc", ".venv/", "venv/", "env/", ".tox/", ".nox/",
          ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", "node_modules/", "*.egg-info/", "build/", "dist/"]  # fmt: skip
MAX_FILE_BYTES = 2_000_000
MAX_FILES = 20_000
TOOLS = ("pdb", "rewrite", "view", "eval", "grep", "listdir")


@dataclass
class ProjectConfig:
    """What ``gym-pdb mcp`` works on: the folder, its interpreter, its test command, what stays read-only."""

    workspace: str
    test_command: str | None = None
    python: str | None = None
    readonly: list[str] = field(default_factory=list)
    pdb_timeout: float = 30.0
    test_timeout: float = 600.0

    def __post_init__(self) -> None:
        self.workspace = os.path.realpath(os.path.expanduser(self.workspace))
        if not os.path.isdir(self.workspace):
            raise ValueError(f"no folder {self.workspace}")
        python = self.python or shutil.which("python3") or shutil.which("python")
        if not python or not os.access(python, os.X_OK):
            raise ValueError(f"no Python interpreter {self.python or 'on PATH'}: pass --python")
        self.python = os.path.abspath(python)
        self.test_command = self.test_command or f"{shlex.quote(self.python)} -m pytest -q"


class ProjectFiles(MutableMapping[str, str]):
    """The project's text files, read from disk at each access (the folder may change between calls)."""

    def __init__(self, root: str, hidden: list[str]):
        self.root, self.hidden = root, hidden

    def _path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def __getitem__(self, rel: str) -> str:
        path = self._path(rel)
        if matches_any(rel, self.hidden) or not os.path.isfile(path) or os.path.getsize(path) > MAX_FILE_BYTES:
            raise KeyError(rel)
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def __setitem__(self, rel: str, text: str) -> None:
        pass  # the sandbox wrote the file already (Workspace.write writes there, then here)

    def __delitem__(self, rel: str) -> None:
        raise KeyError(rel)

    def __contains__(self, rel: object) -> bool:
        return isinstance(rel, str) and not matches_any(rel, self.hidden) and os.path.isfile(self._path(rel))

    def __iter__(self) -> Iterator[str]:
        count = 0
        for folder, dirs, files in os.walk(self.root):
            rel_dir = os.path.relpath(folder, self.root)
            prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            dirs[:] = sorted(d for d in dirs if not matches_any(prefix + d + "/", self.hidden))
            for name in sorted(files):
                rel = prefix + name
                if matches_any(rel, self.hidden) or os.path.islink(os.path.join(folder, name)):
                    continue
                count += 1
                if count > MAX_FILES:
                    return
                yield rel

    def __len__(self) -> int:
        return sum(1 for _ in self)


class ProjectSandbox(LocalSandbox):
    """A local sandbox whose workspace is the project folder itself: never wiped, written in place.

    Code runs as the calling user (the project is theirs), with the sandbox's
    limits, scrubbed environment, own process group and, where the OS allows,
    no network (util-linux's confinement; bubblewrap's would hide the project).
    """

    def __init__(self, project: str, python: str, limits: Limits | None = None):
        # confine="basic": bubblewrap's view would bind the private workspace, not the project folder.
        super().__init__(limits=limits, python=python, drop_privileges=False, confine="basic", warm=False)
        self.workdir = project
        self.info.workdir = project
        self.forks_python = True
        self._warm = self._start_warm()

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**super()._env(extra), "GYM_PDB_CONFTEST": "1"}  # pdb's pytest runner loads the project's conftest.py

    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        """Nothing: the workspace is the user's project, never reset."""

    def _write(self, path: str, content: bytes, readonly: bool) -> None:
        host = self._host_path(path)
        mode = os.stat(host).st_mode & 0o7777 if os.path.isfile(host) else 0o644
        os.makedirs(os.path.dirname(host), exist_ok=True)
        tmp = host + f".gym-pdb-{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(content)
        os.chmod(tmp, mode)
        os.replace(tmp, host)


class ProjectWorkspace(Workspace):
    """The tools' view of the project: its task's files are the folder's, live (never copied by a reset)."""

    def __init__(self, sandbox: ProjectSandbox, task: Task):
        super().__init__(sandbox)
        self._task = task
        self.files = task.files  # a live ProjectFiles mapping


class ProjectEvalTool(Tool):
    """``eval`` on a project: its test command, with the output and the exit status."""

    name = "eval"
    description = "Run the project's tests (its test command) and report the output and the exit status."
    parameters = {"type": "object", "properties": {}}

    def __init__(self, command: str, timeout: float, output_chars: int = 12_000):
        self.command, self.timeout, self.output_chars = command, timeout, output_chars

    def __call__(self, ctx: ToolContext) -> ToolResult:
        run = ctx.sandbox.run(["/bin/sh", "-c", self.command], timeout=self.timeout)
        text = run.text.strip()
        if len(text) > self.output_chars:
            text = f"... [{len(text) - self.output_chars} characters cut]\n" + text[-self.output_chars :]
        status = f"stopped after {self.timeout:g} s" if run.timed_out else f"exit status {run.exit_code}"
        return ToolResult(f"$ {self.command}\n{text}\n[{status}]")


class Project:
    """The tools on one project folder; ``call(name, arguments)`` runs one, one at a time."""

    def __init__(self, config: ProjectConfig):
        self.config = config
        root = config.workspace
        files = ProjectFiles(root, HIDDEN)
        tests = [p for p in files if os.path.basename(p).startswith("test") and p.endswith(".py")]
        # The task's files are the folder's, read live (a mapping, not the dict an episode's task holds).
        self.task = Task(id=os.path.basename(root), suite="project", files=files,  # type: ignore[arg-type]
                         test_files=tests[:1] or ["test.py"],
                         readonly=list(config.readonly), hidden=HIDDEN)  # fmt: skip
        python, command = config.python, config.test_command
        assert python is not None and command is not None  # ProjectConfig fills them in
        self.sandbox = ProjectSandbox(root, python, Limits(cpu_seconds=int(config.test_timeout) + 60))
        workspace = ProjectWorkspace(self.sandbox, self.task)
        settings = ToolSettings(pdb_timeout=config.pdb_timeout, eval_timeout=config.test_timeout)
        session = PdbSession(self.sandbox, timeout=config.pdb_timeout, output_limit=settings.pdb_output_bytes)
        self.ctx = ToolContext(self.sandbox, workspace, session, settings)
        self.tools: dict[str, Tool] = {**make_tools(t for t in TOOLS if t != "eval"),
                                       "eval": ProjectEvalTool(command, config.test_timeout)}  # fmt: skip
        self._lock = threading.Lock()

    def schemas(self) -> list[dict[str, Any]]:
        return [self.tools[name].schema() for name in TOOLS]

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        tool = self.tools.get(name)
        if tool is None:
            return f"Error: no tool {name!r}; tools: {', '.join(TOOLS)}"
        with self._lock:
            before = self._readonly_files()
            try:
                text = tool(self.ctx, **tool.bind(arguments)).observation
            except (ToolError, ValueError) as exc:
                text = f"Error: {exc}"
            restored = self._restore(before)
        if restored:
            text += "\n\nRead-only files changed by the run were put back: " + ", ".join(restored)
        return text

    def _readonly_files(self) -> dict[str, bytes]:
        if not self.config.readonly:
            return {}
        found = {}
        for rel in self.task.files:
            if matches_any(rel, self.config.readonly):
                with open(os.path.join(self.config.workspace, rel), "rb") as f:
                    found[rel] = f.read()
        return found

    def _restore(self, before: dict[str, bytes]) -> list[str]:
        restored = []
        for rel, data in before.items():
            path = os.path.join(self.config.workspace, rel)
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                self.sandbox._write(rel, data, readonly=True)
                restored.append(rel)
        return restored

    def close(self) -> None:
        self.ctx.session.close()
        self.sandbox.close()


def run_stdio(config: ProjectConfig) -> None:
    """Serve the project's tools over MCP on stdin/stdout until the client goes."""
    project = Project(config)
    instructions = (
        f"Debug the Python project in {config.workspace} with a persistent pdb session (pdb), line rewrites "
        f"(rewrite), view, grep, listdir, and its tests (eval: {config.test_command})."
    )
    server = tool_server("gym-pdb", project.schemas(), project.call, instructions=instructions)
    try:
        server.run(transport="stdio", show_banner=False)
    finally:
        project.close()


__all__ = ["Project", "ProjectConfig", "ProjectSandbox", "run_stdio"]
