"""SWE-PDB's pdb as its agent met it: a plain ``python -m pdb`` session and its replies.

SWE-PDB ran ``python -m pdb -m pytest ...`` in a terminal, read each reply up to
pdb's prompt, and wrapped it in its own texts (read from the release by
:mod:`.templates`); it started a session on its eval command at reset, listed
breakpoints with absolute paths, showed the current file only when it
changed, and refused breakpoints on ``def`` and ``class`` lines naming the
next code line. This module does the same in the sandbox, started at the
episode's first pdb call (the reply is the same as after a start at reset).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from gym_pdb.profiles.swe_pdb import eval as swe_eval
from gym_pdb.profiles.swe_pdb.release import run_config
from gym_pdb.profiles.swe_pdb.templates import assigned, containing, render
from gym_pdb.sandbox.base import InteractiveProcess, SandboxError
from gym_pdb.sandbox.session import Breakpoint
from gym_pdb.tools.context import ToolContext

PDB = "gym/tools/pdb.py"
PROMPT = b"(Pdb) "
OUTPUT_LIMIT = 1 << 20
#: pdb's answers to a line it cannot stop at (SWE-PDB turned them into an invalid command).
INVALID_LINE = ("End of file", "Blank or comment", "*** Blank or comment")
LISTED_BREAKPOINT = re.compile(r"^\s*\d+\s+breakpoint\s+keep\s+yes\s+at\s+(.+):(\d+)$")
#: Commands after which pdb's current frame is the one before.
STILL = ("b", "break", "p", "pp")
DEF_LINE = re.compile(r"^\s*(async\s+)?def\s+\w+\s*\([^)]*\)\s*(->\s*[^:]+)?\s*:")
CLASS_LINE = re.compile(r"^\s*class\s+\w+.*:\s*$")


def text(fragment: str, qualname: str = "PDBTool.use", **values: Any) -> str:
    """SWE-PDB's text holding ``fragment`` in ``qualname`` of its pdb tool, rendered with ``values``."""
    return render(containing(PDB, qualname, fragment), values)


@dataclass
class Session:
    """One episode's pdb process and what SWE-PDB kept beside it."""

    episode: int
    entrypoint: str
    process: InteractiveProcess | None = None
    runner: str | None = None
    file: str | None = None
    frame_file: str | None = None
    breakpoints: dict[tuple[str, int], str] = field(default_factory=dict)  # (absolute path, line) -> command


class SwePdbSession:
    """The pdb tool's state across calls: one :class:`Session` per episode of the env."""

    def __init__(self) -> None:
        self.session: Session | None = None

    # -- the process ---------------------------------------------------------------
    def get(self, ctx: ToolContext, spawn: bool = True) -> Session:
        """The episode's session, started on the eval command when it is new (unless not ``spawn``).

        ``spawn=False`` is for a ``start`` that replaces the process at once: the
        session SWE-PDB started at reset would be killed before anyone read it.
        """
        if self.session is None or self.session.episode != ctx.episode:
            if self.session is not None:
                self.stop(self.session)
            words = list(swe_eval.entrypoint())
            debug = " ".join(words).replace("python ", "python -m pdb ", 1)
            self.session = Session(ctx.episode, debug)
            if spawn:
                self.start(ctx, self.session)
        return self.session

    @staticmethod
    def running(s: Session) -> bool:
        return s.process is not None and s.process.alive()

    def stop(self, s: Session) -> None:
        s.frame_file = None
        if s.process is not None:
            s.process.kill()
        s.process = None

    def start(self, ctx: ToolContext, s: Session) -> str:
        self.stop(s)
        words = launch(ctx, shlex.split(s.entrypoint))
        try:
            s.process = ctx.sandbox.spawn(words, env=swe_eval.PLAIN_ENV)
        except SandboxError as exc:
            return str(exc)
        data, _ = s.process.read_until(PROMPT, self.timeout(ctx), OUTPUT_LIMIT)
        output = data.decode("utf-8", "replace").strip()
        if "The program finished and will be restarted" in output:
            self.stop(s)
        if self.running(s):
            for command in s.breakpoints.values():
                self.ask(ctx, s, command)
            if s.breakpoints:
                output = "\n".join([output, text("have been restored", "PDBTool.start_pdb")])
            self.frame(ctx, s)
        return output

    @staticmethod
    def timeout(ctx: ToolContext) -> float:
        return float(run_config(ctx.task.suite).get("run_timeout") or 30)

    def ask(self, ctx: ToolContext, s: Session, command: str) -> str:
        """One command, its reply up to the next prompt (SWE-PDB's ``interact_with_pdb``)."""
        assert s.process is not None
        try:
            s.process.write(command.encode() + b"\n")
            data, _ = s.process.read_until(PROMPT, self.timeout(ctx), OUTPUT_LIMIT)
        except SandboxError:
            return ""
        return reply_text(data)

    def ask_both(self, ctx: ToolContext, s: Session, first: str, second: str) -> tuple[str, str]:
        """Two commands that run none of the program's code, written at once: each one's reply, as ``ask``'s.

        One round trip instead of two; pdb reads and answers them in order, as if asked one by one.
        """
        assert s.process is not None
        try:
            s.process.write(f"{first}\n{second}\n".encode())
            data, found = s.process.read_until(PROMPT, self.timeout(ctx), OUTPUT_LIMIT)
            head, sep, tail = data.partition(PROMPT)
            if found and not sep:
                tail, _ = s.process.read_until(PROMPT, self.timeout(ctx), OUTPUT_LIMIT)
        except SandboxError:
            return "", ""
        return reply_text(head), reply_text(tail)

    def frame(self, ctx: ToolContext, s: Session) -> str | None:
        """The current frame's file, from a ``where`` the agent does not see."""
        path = None
        for line in self.ask(ctx, s, "where").splitlines():
            if line.startswith("> "):
                path = line[2:].split("(")[0]
                break
        s.frame_file = path
        return path

    def update_breakpoints(self, ctx: ToolContext, s: Session, listing: str | None = None) -> str:
        """The breakpoints as pdb lists them (``b``, or ``listing`` when already asked) into the session."""
        found: dict[tuple[str, int], str] = {}
        if listing is None:
            listing = self.ask(ctx, s, "b")
        for line in listing.splitlines():
            match = LISTED_BREAKPOINT.match(line)
            if match:
                found[(match[1], int(match[2]))] = f"b {match[1]}:{match[2]}"
        s.breakpoints = found
        sync_breakpoints(ctx, s)
        return listing

    def listed(self, s: Session) -> str:
        """The breakpoints as SWE-PDB's env listed them, sorted by file and line."""
        if not s.breakpoints:
            return render(containing("gym/envs/env.py", "RepoEnv.current_breakpoints", "No breakpoints"), {})
        return "\n".join(f"line {line} in {path}" for path, line in sorted(s.breakpoints))


def reply_text(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace("(Pdb)", "").strip()


def launch(ctx: ToolContext, words: list[str]) -> list[str]:
    """The argv that runs ``words`` in the sandbox: ``python -m pdb ARGS`` through ``support/lazy_pdb.py``.

    That script is ``python -m pdb`` but for a ``c`` run untraced until the
    workspace's code first runs (pytest's start and collection): the same
    stops, stack and output, without bdb's trace function on every call before.
    """
    info = ctx.sandbox.info
    if words[:3] == ["python", "-m", "pdb"]:
        return [info.python, f"{info.support_dir.rstrip('/')}/lazy_pdb.py", *words[3:]]
    return [info.python, *words[1:]] if words[:1] == ["python"] else words


def sync_breakpoints(ctx: ToolContext, s: Session) -> None:
    """The breakpoints into gym-pdb's session list, which view marks and rewrite shifts."""
    root = ctx.sandbox.info.workdir.rstrip("/") + "/"
    ctx.session.breakpoints = [
        Breakpoint(path[len(root) :], line) for path, line in sorted(s.breakpoints) if path.startswith(root)
    ]


def from_gym_pdb(ctx: ToolContext, s: Session) -> None:
    """gym-pdb's list (moved by rewrites) back into the session's commands."""
    root = ctx.sandbox.info.workdir.rstrip("/") + "/"
    s.breakpoints = {(root + bp.file, bp.line): f"b {root + bp.file}:{bp.line}" for bp in ctx.session.breakpoints}


def validate(ctx: ToolContext, path: str, line: int) -> str:
    """Why a breakpoint may not go on ``path:line`` (SWE-PDB's checks), empty when it may."""
    rel = path[len(ctx.sandbox.info.workdir.rstrip("/")) + 1 :] if path.startswith("/") else path
    source = ctx.workspace.files.get(rel.removeprefix("./"))
    if source is None:
        return ""
    lines = source.splitlines()
    q = "PDBTool._validate_breakpoint_line"
    if line < 1 or line > len(lines):
        return text("is out of range", q, line_num=line, lines=lines)
    target_line = lines[line - 1].strip()
    if not target_line or target_line.startswith("#"):
        return text("blank line or comment", q, line_num=line, target_line=target_line)
    if DEF_LINE.match(target_line):
        suggestion = ""
        for i in range(line, min(line + 5, len(lines) + 1)):
            nxt = lines[i - 1].strip()
            if nxt and not nxt.startswith("#") and not DEF_LINE.match(nxt) and not CLASS_LINE.match(nxt):
                suggestion = text("Try line", q, next_executable_line=i)
                break
        return text("is a function definition line", q, line_num=line, target_line=target_line, suggestion=suggestion)
    if CLASS_LINE.match(target_line):
        return text("is a class definition line", q, line_num=line, target_line=target_line)
    return ""


def indent_first_line(listing: str) -> str:
    """The first line of a listing indented like the second (pdb prints it shorter after ``l .``)."""
    lines = listing.splitlines()
    if len(lines) <= 1:
        return listing
    first, second = re.match(r"^(\s*)(\d+)", lines[0]), re.match(r"^(\s*)(\d+)", lines[1])
    if first and second and len(first[1]) < len(second[1]):
        return second[1][len(first[1]) :] + listing
    return listing


def auto_list(ctx: ToolContext) -> bool:
    return bool(run_config(ctx.task.suite).get("auto_list"))


def environment(state: SwePdbSession, s: Session) -> SimpleNamespace:
    """What SWE-PDB's texts call on ``environment``."""
    return SimpleNamespace(current_breakpoints=lambda: state.listed(s))


def build_entrypoint(runner: str, file: str) -> str | None:
    """The command SWE-PDB's start ran (``None`` for an unknown runner)."""
    if runner.lower() == "python":
        return f"python -m pdb {file}"
    if runner.lower() == "pytest":
        return f"python -m pytest -sq {file} --trace  --tb=short" if "::" in file else f"python -m pdb -m pytest -sq {file}"
    return None


def call(state: SwePdbSession, ctx: ToolContext, command: str, runner: str | None, file: str | None) -> str:
    """One pdb call, answered as SWE-PDB's pdb tool answered it."""
    replaced = command.lower() == "start" and bool(runner and file) and build_entrypoint(runner or "", file or "") is not None
    s = state.get(ctx, spawn=not replaced)
    from_gym_pdb(ctx, s)
    if command == "":
        return text("Empty commands")
    if command.lower() == "start":
        return start(state, ctx, s, runner, file)
    warning = ""
    if not printing(command):
        parts = re.split("\n|;", command)
        if len(parts) > 1:
            command = parts[0].strip()
            warning = text("Multiple commands are not supported")
    if not state.running(s):
        return text("is not running")
    env = environment(state, s)
    success, output, listing = True, "", None
    words = command.split()
    if command in ("b", "break"):
        output = render(containing(PDB, "PDBTool.use", "Breakpoints:\n", nth=2), {"environment": env})
    elif command in ("cl", "clear"):
        s.breakpoints = {}
        sync_breakpoints(ctx, s)
        state.start(ctx, s)
        output = text("have been cleared")
    else:
        if words[0] in ("b", "break") and len(words) > 1 and ":" in words[1]:
            path, _, line = words[1].rpartition(":")
            if not line.isdigit():
                return invalid(command, warning, text("Invalid breakpoint format", breakpoint_cmd=words[1]))
            why = validate(ctx, path, int(line))
            if why:
                return refused(command, warning, path, int(line), why)
        if words[0] in ("b", "break") and ";;" not in command:
            # Setting a breakpoint runs none of the program's code: the listing SWE-PDB asked for next goes along.
            pdb_out, listed = state.ask_both(ctx, s, command, "b")
        else:
            pdb_out, listed = state.ask(ctx, s, command), None
        if pdb_out in INVALID_LINE:
            success, output = False, text("Invalid line number", pdb_out=pdb_out)
        else:
            output = text("Pdb command output:\n", pdb_out=pdb_out)
            if not state.running(s):
                output += text("Pdb quit.")
            elif listed is not None or not printing(command) or ";;" in command:
                listing = state.update_breakpoints(ctx, s, listed)
    if not success:
        return invalid(command, warning, output)
    obs = f"{warning}\n{output.strip()}\n" if warning else f"{output.strip()}\n"
    if state.running(s):
        previous = s.frame_file
        # pdb's frame stays where it was after these (a ``p`` runs with tracing off), and so does the
        # listing of breakpoints after ``update_breakpoints``: neither is asked for again.
        current = previous if words[0] in STILL or command.startswith("print(") else state.frame(ctx, s)
        context = state.ask(ctx, s, "l .") if auto_list(ctx) and words[0] == "c" else ""
        if words[0] == "b" and len(words) > 1:
            every = listing if listing is not None else state.ask(ctx, s, "b")
            if every:
                obs += render(containing(PDB, "PDBTool.use", "All breakpoints:"), {"all_breakpoints": every})
        if current and current != previous:
            obs += render(containing(PDB, "PDBTool.use", "Current frame:"), {"current_frame": current})
        if context:
            obs += text("\nContext around the current frame", indented_output=indent_first_line(context))
    return obs


def printing(command: str) -> bool:
    """A ``p``/``pp``/``print(...)``: SWE-PDB split no such command, and its breakpoint listing after one is
    the one before (SWE-PDB asked pdb for it after every command; an expression cannot change it, though a
    command joined to it by pdb's ``;;`` can)."""
    return command.split()[0] in ("p", "pp") or command.startswith("print(")


def invalid(command: str, warning: str, output: str) -> str:
    """SWE-PDB's refusal of a command (the first ``obs`` of its ``use`` with a warning, the second without)."""
    values = {"command": command, "_warning": warning, "output": output}
    return render(assigned(PDB, "PDBTool.use", "obs", 0 if warning else 1), values)


def refused(command: str, warning: str, file_path: str, line_num: int, message: str) -> str:
    found = re.search(r"Try line (\d+) instead", message)
    values: dict[str, Any] = {"file_path": file_path, "line_num": line_num, "suggested_line": int(found[1]) if found else None}
    suggestion_text = text("Suggested fix", **values) if found else text("Please set the breakpoint", **values)
    return invalid(command, warning, text("BREAKPOINT SETTING FAILED", message=message, suggestion_text=suggestion_text))


def start(state: SwePdbSession, ctx: ToolContext, s: Session, runner: str | None, file: str | None) -> str:
    if not file:
        return text("The 'file' parameter is REQUIRED")
    if not runner:
        return text("The 'runner' parameter is REQUIRED")
    entrypoint = build_entrypoint(runner, file)
    if entrypoint is None:
        return text("Invalid runner", runner=runner)
    s.entrypoint, s.runner, s.file = entrypoint, runner, file
    output = state.start(ctx, s)
    extra = []
    if state.running(s):
        state.update_breakpoints(ctx, s)
        extra.append(text("Breakpoints:\n", breakpoints_text=state.listed(s)))
        state.frame(ctx, s)
        listing = state.ask(ctx, s, "l .")
        if listing:
            extra.append(text("Context around the current frame", indented_output=indent_first_line(listing)))
    more = ("\n" + "\n\n".join(extra)) if extra else ""
    return text("PDB session started with", new_entrypoint=entrypoint, output=output, extra=more)
