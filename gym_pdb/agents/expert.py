"""expert: a scripted demonstrator for tasks with a gold fix.

It runs the tests, reads the file where the buggy and gold versions differ,
starts pdb on the first failing test, sets a breakpoint on the first differing
line (the statement holding it, inside its function), continues to it, prints
the values that line uses, rewrites the differing lines with the gold ones and
runs the tests again. Every step is a real env interaction, so its
trajectories are SFT data in the same format as a model's. With
``mode="trace"`` it reads a function-level trace instead of using pdb
(``expert_trace.py``).
"""

from __future__ import annotations

import ast
import builtins
import difflib
import re
import warnings
from dataclasses import dataclass
from typing import Any, Generator

from gym_pdb.agents.base import Agent, Turn, tool_call
from gym_pdb.agents.expert_trace import trace_steps
from gym_pdb.agents.prompts import DEBUG_SYSTEM_PROMPT
from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS, REWRITE_ONLY_TOOLS

MODES = ("pdb", "trace")

FRAME = re.compile(r"^(?:Current|Post-mortem) frame: (\S+):(\d+) in ", re.M)
NOT_PASSED = re.compile(r"^(?:FAILED|ERROR|TIMEOUT|NOT RUN)\s+(\S+::\S+)", re.M)
VIEW_WHOLE_FILE = 120
VIEW_MARGIN = 15
MERGE_GAP = 2
MAX_PRINTED = 6


@dataclass
class Hunk:
    """Buggy lines ``start..end`` (1-based, inclusive; ``end = start - 1`` inserts) become ``code``.

    ``focus`` is the first buggy code line that the change touches (where to break).
    """

    path: str
    start: int
    end: int
    code: str
    whole_file: bool = False
    focus: int = 0


class ExpertAgent(Agent):
    """Replays a task's gold fix through the pdb workflow (needs ``Task.gold_files``).

    ``mode="trace"``: through the trace tool instead of pdb (its tools: the
    rewrite-only ones and ``trace``). ``system_prompt`` replaces the debug
    agent's, e.g. to collect trajectories with the prompt a model will be run with.
    """

    name = "expert"
    tools: tuple[str, ...] = DEFAULT_TOOLS
    model = "scripted"

    def __init__(self, max_continues: int = 3, mode: str = "pdb", system_prompt: str | None = None):
        if mode not in MODES:
            raise ValueError(f"the expert's mode is one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        if mode == "trace":
            self.tools = (*REWRITE_ONLY_TOOLS, "trace")
        self.max_continues = max_continues
        self._system_prompt = system_prompt
        self._script: Generator[Turn, str, None] | None = None
        self._started = False
        self._calls = 0

    def system_prompt(self) -> str:
        return DEBUG_SYSTEM_PROMPT if self._system_prompt is None else self._system_prompt

    def reset(self, task: Task, observation: str) -> None:
        if not has_gold_fix(task):
            raise ValueError(f"the expert needs a gold fix, and task {task.id} has none")
        self._calls = 0
        self._script = self._play(task)
        self._started = False

    def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Turn:
        if self._script is None:
            raise RuntimeError("reset() the expert before act()")
        observation = messages[-1].get("content") or "" if messages else ""
        try:
            if not self._started:
                self._started = True
                return next(self._script)
            return self._script.send(observation)
        except StopIteration:
            return Turn(content="The fix is in and the tests have run.", stop=True)

    def _call(self, content: str, name: str, **arguments: Any) -> Turn:
        self._calls += 1
        return Turn(content=content, tool_calls=[tool_call(f"call_{self._calls:04d}", name, arguments)])

    def _play(self, task: Task) -> Generator[Turn, str, None]:
        hunks = gold_hunks(task)
        observation = yield self._call("Let me run the tests to see what fails.", "eval")
        failing = NOT_PASSED.findall(observation)
        if not hunks:
            return
        focus, target = _focus_hunk(task, hunks)
        path = focus.path
        text = task.files.get(path, "")
        total = len(text.splitlines())
        if text:
            if total <= VIEW_WHOLE_FILE:
                yield self._call(f"Let me read {path}.", "view", path=path)
            else:
                around = focus.focus or focus.start
                lo, hi = max(1, around - VIEW_MARGIN), min(total, around + VIEW_MARGIN)
                yield self._call(f"Let me read {path} around line {around}.", "view", path=path, start=lo, end=hi)
        if target is not None and failing and self.mode == "trace":
            yield from trace_steps(self._call, path, focus.focus or target[0], failing[0], text)
        elif target is not None and failing:
            line, exprs = target
            test = failing[0]
            observation = yield self._call(
                f"I'll run {test} under pdb and stop where the code looks wrong.",
                "pdb", command="start", runner="pytest", file=test,
            )  # fmt: skip
            observation = yield self._call(
                f"Line {line} of {path} is suspicious: a breakpoint there.", "pdb", command=f"b {path}:{line}"
            )
            reached = _at(observation, path, line)
            for _ in range(self.max_continues):
                if reached:
                    break
                observation = yield self._call("Continue to the breakpoint.", "pdb", command="c")
                reached = _at(observation, path, line)
            if reached:
                if exprs:
                    yield self._call(f"Print what line {line} works with.", "pdb", command="p " + ", ".join(exprs))
                else:
                    yield self._call("Print the arguments of this call.", "pdb", command="a")
        offset = 0
        for i, hunk in enumerate(hunks):
            lead = "That is the bug. " if hunk is focus else ""
            if hunk.whole_file:
                yield self._call(
                    f"{lead}Rewrite {hunk.path} with the fix.", "rewrite", path=hunk.path, new_code=hunk.code
                )
                continue
            if i and hunks[i - 1].path != hunk.path:
                offset = 0
            start, end = hunk.start + offset, hunk.end + offset
            what = (
                f"line {start}"
                if end == start
                else (f"lines {start}..{end}" if end > start else f"before line {start}")
            )
            yield self._call(
                f"{lead}Fix {hunk.path} {what}.", "rewrite", path=hunk.path, start=start, end=end, new_code=hunk.code
            )
            offset += (
                len(hunk.code.splitlines()) - (hunk.end - hunk.start + 1) if hunk.code else -(hunk.end - hunk.start + 1)
            )
        yield self._call("Run the tests again.", "eval")


def _focus_hunk(task: Task, hunks: list[Hunk]) -> tuple[Hunk, tuple[int, list[str]] | None]:
    """The first hunk whose change lies inside a function (where pdb can stop), with its breakpoint."""
    for hunk in hunks:
        source = task.files.get(hunk.path)
        target = breakpoint_target(source, hunk.focus) if source and hunk.focus else None
        if target is not None:
            return hunk, target
    return hunks[0], None


def has_gold_fix(task: Task) -> bool:
    """Whether the task's gold files differ from its buggy files somewhere.

    A repository task's gold files come from its gold patch at its first reset: a patch is a fix.
    """
    if task.repo and not task.files:
        return bool(task.repo.get("gold_patch"))
    gold = task.gold_files or {}
    return any(task.files.get(path) != text for path, text in gold.items())


def gold_hunks(task: Task) -> list[Hunk]:
    """The edits that turn the task's editable files into its gold files, top to bottom per file."""
    hunks: list[Hunk] = []
    new_files: list[Hunk] = []
    entry = task.entrypoint
    for path, gold in sorted((task.gold_files or {}).items(), key=lambda item: (item[0] != entry, item[0])):
        if not task.is_editable(path):
            continue
        buggy = task.files.get(path)
        if buggy is None:
            new_files.append(Hunk(path, 1, 0, gold, whole_file=True))
        elif buggy != gold:
            hunks.extend(file_hunks(path, buggy, gold))
    return hunks + new_files


def file_hunks(path: str, buggy: str, gold: str) -> list[Hunk]:
    """The edits of one file: the differing lines that change the program (not only its docstrings,
    comments or blank lines), close ones merged; the whole file when most of it changes."""
    old, new = buggy.splitlines(keepends=True), gold.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    ops = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
    groups: list[list[int]] = []
    for i1, i2, j1, j2 in _semantic(ops, old, new, buggy, gold):
        if groups and i1 - groups[-1][1] <= MERGE_GAP:
            groups[-1][1], groups[-1][3] = i2, j2
        else:
            groups.append([i1, i2, j1, j2])
    changed = sum(i2 - i1 for i1, i2, _, _ in groups)
    if not groups or changed > 0.6 * max(1, len(old)) or len(groups) > 6:
        focus = _focus(old, groups[0][0], groups[0][1]) if groups else 0
        return [Hunk(path, 1, len(old), gold, whole_file=True, focus=focus)]
    hunks = []
    for i1, i2, j1, j2 in groups:
        code = "".join(new[j1:j2])
        if i2 < len(old) and code.endswith("\n"):
            code = code[:-1] if not code.endswith("\r\n") else code[:-2]
        hunks.append(Hunk(path, i1 + 1, i2, code, focus=_focus(old, i1, i2)))
    return hunks


def _focus(old: list[str], i1: int, i2: int) -> int:
    """The first code line of buggy lines ``i1..i2`` (0-based, end excluded), 1-based; for an insertion, the next line."""
    for i in range(i1, i2):
        text = old[i].strip()
        if text and not text.startswith("#"):
            return i + 1
    return min(i1 + 1, len(old))


def _semantic(ops: list[tuple[int, int, int, int]], old: list[str], new: list[str], buggy: str, gold: str) -> list[tuple[int, int, int, int]]:
    """The ops that change the program's AST, if applying only them gives the gold's AST; else all."""
    base, target = _canonical(buggy), _canonical(gold)
    if base is None or target is None:
        return ops
    kept = [op for op in ops if _canonical(_apply(old, new, [op])) != base]
    if kept and _canonical(_apply(old, new, kept)) == target:
        return kept
    return ops


def _apply(old: list[str], new: list[str], ops: list[tuple[int, int, int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for i1, i2, j1, j2 in ops:
        out += old[pos:i1] + new[j1:j2]
        pos = i2
    return "".join(out + old[pos:])


def _canonical(source: str) -> str | None:
    """The program's AST without docstrings (comments and layout are not in it), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like in task code
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.body and _is_docstring(node.body[0]):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


def breakpoint_target(source: str, line: int) -> tuple[int, list[str]] | None:
    """Where to break to see ``line`` run (its statement, inside a function) and what it reads; None outside functions."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    line = min(line, len(source.splitlines()))
    stmt, in_function = _innermost(tree.body, line, False)
    if stmt is None or not in_function and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        body = [s for s in stmt.body if not _is_docstring(s)]
        if not body or isinstance(stmt, ast.ClassDef):
            return None
        stmt = body[0]
    return stmt.lineno, _read_expressions(stmt, _module_names(tree))


def _innermost(body: list[ast.stmt], line: int, in_function: bool) -> tuple[ast.stmt | None, bool]:
    for stmt in body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        if not start <= line <= (stmt.end_lineno or stmt.lineno):
            continue
        inner_function = in_function or isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
        for block in _blocks(stmt):
            found, flag = _innermost(block, line, inner_function)
            if found is not None:
                return found, flag
        return stmt, in_function
    return None, in_function


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [
        getattr(stmt, name) for name in ("body", "orelse", "finalbody") if isinstance(getattr(stmt, name, None), list)
    ]
    blocks += [h.body for h in getattr(stmt, "handlers", [])]
    blocks += [c.body for c in getattr(stmt, "cases", [])]
    return blocks


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _module_names(tree: ast.Module) -> set[str]:
    names = set(dir(builtins))
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    return names


def _header(stmt: ast.stmt) -> list[ast.AST]:
    """The parts of a statement that its own line evaluates (a compound statement's header)."""
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, ast.Try):
        return []
    if isinstance(stmt, ast.Match):
        return [stmt.subject]
    if isinstance(stmt, ast.AugAssign):
        return [stmt.target, stmt.value]
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        read_targets: list[ast.AST] = [t for t in targets if not isinstance(t, (ast.Name, ast.Tuple, ast.List))]
        return read_targets + ([stmt.value] if stmt.value is not None else [])
    return [stmt]


def _read_expressions(stmt: ast.stmt, exclude: set[str]) -> list[str]:
    """Names and ``name.attr`` the statement reads, in order, without globals, builtins or callees."""
    found: list[tuple[tuple[int, int], str]] = []
    local: set[str] = set()
    callees: set[int] = set()
    for root in _header(stmt):
        for node in ast.walk(root):
            if isinstance(node, ast.comprehension):
                local.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Lambda):
                local.update(a.arg for a in node.args.args + node.args.kwonlyargs)
            elif isinstance(node, ast.Call):
                callees.add(id(node.func))
    for root in _header(stmt):
        for node in ast.walk(root):
            if id(node) in callees:
                continue
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                name = node.value.id
                if name not in exclude and name not in local:
                    found.append(((node.lineno, node.col_offset), f"{name}.{node.attr}"))
            elif isinstance(node, ast.Name) and (isinstance(node.ctx, ast.Load) or isinstance(stmt, ast.AugAssign)):
                if node.id not in exclude and node.id not in local:
                    found.append(((node.lineno, node.col_offset), node.id))
    ordered = [expr for _, expr in sorted(found, key=lambda item: item[0])]
    bases = {e.split(".")[0] for e in ordered if "." in e}
    unique: list[str] = []
    for expr in ordered:
        if expr in unique or expr in bases:
            continue
        unique.append(expr)
    return unique[:MAX_PRINTED]


def _at(observation: str, path: str, line: int) -> bool:
    frames = FRAME.findall(observation)
    return bool(frames) and frames[-1] == (path, str(line))
