"""SWE-PDB's tools as its agent saw them: its schemas, and its observations of view, rewrite and grep.

Each tool subclasses gym-pdb's (the same arguments, binding and command-line
form) and changes what the agent sees: ``schema()`` is built from the
release's own ``description`` and ``arguments`` as SWE-PDB's OpenAI client
sent them (nullable types, every parameter required, no other properties),
and the observations are SWE-PDB's texts (:mod:`.templates`) around what
gym-pdb computed. Its semantics where they differ from gym-pdb's default:
a rewrite with empty ``new_code`` leaves one empty line (later line numbers
stay put), a rewrite starting past the end of the file appends, and a
rewrite does not restart the pdb session.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from gym_pdb.profiles.swe_pdb.release import class_constants
from gym_pdb.profiles.swe_pdb.templates import assigned, containing, render
from gym_pdb.tools.base import ToolResult
from gym_pdb.tools.context import ToolContext
from gym_pdb.profiles.swe_pdb.eval import PlainRuns, judged_and_observed
from gym_pdb.profiles.swe_pdb.pdb import SwePdbSession
from gym_pdb.profiles.swe_pdb.pdb import call as pdb_call
from gym_pdb.tools.eval import EvalTool
from gym_pdb.tools.grep import GrepTool
from gym_pdb.tools.listdir import ListdirTool
from gym_pdb.tools.pdb import PdbTool
from gym_pdb.tools.registry import ToolRegistry
from gym_pdb.tools.rewrite import RewriteTool
from gym_pdb.tools.view import ViewTool, folder_paths

#: The tools of the `swe-pdb` profile.
SWE_PDB_TOOLS = ToolRegistry()
#: SWE-PDB's debug agent's tools, in its configs' order.
SWE_PDB_DEFAULT_TOOLS = ("grep", "pdb", "view", "rewrite", "eval")
VIEW, REWRITE, GREP = "gym/tools/view.py", "gym/tools/rewrite.py", "gym/tools/grep.py"
#: SWE-PDB's view shows at most this many lines of a range (its code's constant).
VIEW_LINES = 110


class ReleaseSchema:
    """A mixin: the tool's schema is the release's (``(module, class)`` of its definition in ``debug_gym``).

    Not a Tool itself, so that the command-line form stays the gym-pdb tool's it is mixed into.
    """

    name: ClassVar[str]
    release_class: ClassVar[tuple[str, str]]

    def schema(self) -> dict[str, Any]:
        defined = class_constants(*self.release_class)
        arguments = defined.get("arguments", {})
        parameters: dict[str, Any] = {"type": "object", "properties": arguments, "additionalProperties": False}
        if arguments:
            parameters["required"] = list(arguments)
        return {
            "type": "function",
            "function": {"name": self.name, "description": defined["description"], "parameters": parameters},
        }


def breakpoint_lines(ctx: ToolContext, path: str) -> set[int]:
    return {bp.line for bp in ctx.session.breakpoints if bp.file == path}


@SWE_PDB_TOOLS.register
class SwePdbView(ReleaseSchema, ViewTool):
    release_class = (VIEW, "ViewTool")

    def __call__(
        self,
        ctx: ToolContext,
        path: str,
        start: int | None = None,
        end: int | None = None,
        include_line_numbers_and_breakpoints: bool = True,
    ) -> ToolResult:
        ws = ctx.workspace
        new_file = path.strip()
        try:
            rel = ws.check_path(new_file)
            folder = folder_paths(ws, rel)
            if not folder and rel not in ws.files:
                raise ValueError(new_file)
        except ValueError:
            message = f"`{new_file}` does not exist or is not in the working directory `{ctx.sandbox.info.workdir}`."
            return ToolResult(render(containing(VIEW, "ViewTool.use", "View failed"), {"e": message}))
        if folder:
            return ToolResult(tree(ctx.sandbox.info.workdir, rel, folder))
        file_lines = ws.files[rel].splitlines()
        if not file_lines:
            return ToolResult(render(containing(VIEW, "ViewTool.use", "is empty"), {"new_file": new_file}))
        s = start - 1 if start is not None else 0
        e = min(end, len(file_lines)) if end is not None else len(file_lines)
        values: dict[str, Any] = {"start": start, "end": end, "new_file": new_file, "file_lines": file_lines}
        if s < 0 or s >= len(file_lines):
            return ToolResult(render(containing(VIEW, "ViewTool.use", "Invalid start index"), values))
        if e < 0 or e > len(file_lines):
            return ToolResult(render(containing(VIEW, "ViewTool.use", "Invalid end index"), values))
        if s + 1 > e:
            return ToolResult(render(containing(VIEW, "ViewTool.use", "Invalid range"), values))
        selected = file_lines[s:e]
        truncated = len(selected) > VIEW_LINES
        selected = selected[:VIEW_LINES]
        display = "\n".join(selected)
        breakpoints_message = ""
        if include_line_numbers_and_breakpoints:
            display = numbered(display, s + 1, breakpoint_lines(ctx, rel))
            if ctx.session.breakpoints:
                breakpoints_message = render(assigned(VIEW, "ViewTool.use", "breakpoints_message", 1), {})
        values.update(s=s, display_end_index=s + len(selected), display_content=display)
        values.update(
            line_numbers=render(assigned(VIEW, "ViewTool.use", "line_numbers"), values),
            read_only=render(assigned(VIEW, "ViewTool.use", "read_only"), values, not ws.editable(rel)),
            breakpoints_message=breakpoints_message,
            truncated_note=render(assigned(VIEW, "ViewTool.use", "truncated_note"), values, truncated),
        )
        return ToolResult(render(assigned(VIEW, "ViewTool.use", "obs"), values))


def numbered(code: str, first: int, breaks: set[int]) -> str:
    """Lines with a two-column breakpoint mark and their number, the number's width a multiple of 4."""
    lines = code.split("\n")
    width = (len(str(first + len(lines) + 1)) - 1) // 4 * 4 + 4
    return "\n".join(
        f"{'B' if first + i in breaks else '':<2}{first + i:>{width}} {line}" for i, line in enumerate(lines)
    )


def tree(workdir: str, rel: str, paths: Sequence[str]) -> str:
    """A folder of the working folder ``workdir`` one level deep, as SWE-PDB's view showed it.

    The form of its workspace's fallback on ``find`` where no ``tree`` command is installed, as recorded.
    """
    root = workdir.rstrip("/") + ("" if rel == "." else "/" + rel.strip("/"))
    prefix = "" if rel == "." else rel.strip("/") + "/"
    entries: dict[str, bool] = {}
    for p in paths:
        head, _, rest = p[len(prefix) :].partition("/")
        entries[head] = entries.get(head, False) or bool(rest)
    return "\n".join([root + "/"] + [f"  |-- {name}{'/' if is_dir else ''}" for name, is_dir in sorted(entries.items())])


@SWE_PDB_TOOLS.register
class SwePdbRewrite(ReleaseSchema, RewriteTool):
    release_class = (REWRITE, "RewriteTool")

    def __call__(
        self, ctx: ToolContext, path: str, new_code: str, start: int | None = None, end: int | None = None
    ) -> ToolResult:
        ws = ctx.workspace
        try:
            rel = ws.check_path(path)
        except ValueError as exc:
            return self._fail(str(exc))
        if rel not in ws.files:
            return self._fail(f"`{path}` does not exist or is not in the working directory `{ctx.sandbox.info.workdir}`.")
        if not ws.editable(rel):
            text = render(containing(REWRITE, "RewriteTool.use", "protected directory"), {"path": path})
            return self._fail(text)
        if start is not None:
            end = end or start
            if start > end:
                return self._fail(render(containing(REWRITE, "RewriteTool.use", "start should be less"), {}))
            if start <= 0 or end <= 0:
                return self._fail(render(containing(REWRITE, "RewriteTool.use", "1-based"), {}))
        original = ws.files[rel]
        new_lines = new_code.split("\n")
        if start is None:
            text = new_code
        else:
            lines = original.split("\n")
            if start - 1 >= len(lines):
                lines.extend(new_lines)  # past the end: appended
            else:
                lines[start - 1 : end] = new_lines  # an empty new_code leaves one empty line
            text = "\n".join(lines)
        ws.write(rel, text)
        if start is None:  # the whole file: its breakpoints go
            ctx.session.breakpoints = [bp for bp in ctx.session.breakpoints if bp.file != rel]
        elif end is not None and start - 1 < len(original.split("\n")):
            ctx.session.shift_breakpoints(rel, start, end, len(new_lines))
        diff = "".join(
            difflib.unified_diff(
                original.splitlines(keepends=True), text.splitlines(keepends=True), fromfile="original", tofile="current"
            )
        )
        return ToolResult(render(assigned(REWRITE, "RewriteTool.use", "message"), {"path": path, "diff": diff}))

    @staticmethod
    def _fail(message: str) -> ToolResult:
        return ToolResult(render(containing(REWRITE, "RewriteTool.fail", "Rewrite failed"), {"message": message}))


@SWE_PDB_TOOLS.register
class SwePdbGrep(ReleaseSchema, GrepTool):
    release_class = (GREP, "GrepTool")

    def __call__(self, ctx: ToolContext, pattern: str, path: str | None = None, max_results: int | None = None) -> ToolResult:
        limit = max_results if max_results is not None else 100
        if not pattern:
            return ToolResult(render(containing(GREP, "GrepTool.use", "cannot be empty"), {}))
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            return ToolResult(render(containing(GREP, "GrepTool.use", "Grep error"), {"lines": [f"grep: {exc}"]}))
        ws = ctx.workspace
        scope = path.strip("/") if path else ""
        hits: list[tuple[str, int, str]] = []
        for file in sorted(ws.files):
            if scope and file != scope and not file.startswith(scope + "/"):
                continue
            shown = file if scope else "./" + file
            for n, line in enumerate(ws.files[file].splitlines(), 1):
                if regex.search(line):
                    hits.append((shown, n, line))
        hits = hits[:limit] if limit else hits
        values: dict[str, Any] = {"path": path, "pattern": pattern, "lines": hits}
        if not hits:
            values["search_scope"] = render(assigned(GREP, "GrepTool.use", "search_scope"), values, bool(path))
            values["pattern_desc"] = render(assigned(GREP, "GrepTool.use", "pattern_desc"), values)
            return ToolResult(render(containing(GREP, "GrepTool.use", "No matches found for"), values))
        head = "search limit reached" if len(hits) >= limit else "matches:"
        out = [render(containing(GREP, "GrepTool.use", head), values), ""]
        current = None
        for shown, n, line in hits:
            if shown != current:
                if current is not None:
                    out.append("")
                out.append(f"=== {shown} ===")
                current = shown
            out.append(f"{n:>4}: {line[:300] + '...' if len(line) >= 300 else line}")
        return ToolResult("\n".join(out))


@SWE_PDB_TOOLS.register
class SwePdbPdb(ReleaseSchema, PdbTool):
    release_class = ("gym/tools/pdb.py", "PDBTool")

    def __init__(self) -> None:
        self.state = SwePdbSession()

    def __call__(self, ctx: ToolContext, command: str, runner: str | None = None, file: str | None = None) -> ToolResult:
        return ToolResult(pdb_call(self.state, ctx, command, runner, file))


@SWE_PDB_TOOLS.register
class SwePdbEval(ReleaseSchema, EvalTool):
    release_class = ("gym/tools/eval.py", "EvalTool")

    def __init__(self) -> None:
        self.plain_runs = PlainRuns()

    def __call__(self, ctx: ToolContext) -> ToolResult:
        result, shown = judged_and_observed(ctx, self.plain_runs)  # the verdict, and the reward, stay gym-pdb's
        return ToolResult(shown, eval=result)


@SWE_PDB_TOOLS.register
class SwePdbListdir(ReleaseSchema, ListdirTool):
    release_class = ("gym/tools/listdir.py", "ListdirTool")
