"""Breakpoints on a function's header: refused, with the first line of its body named.

pdb accepts ``b solution.py:7`` on a ``def`` line, but that line runs once,
when the module defines the function, not when the function is called: the
breakpoint is hit at import (under pytest, before any test) or never. SWE-PDB
refuses such a breakpoint and names the line to use instead; its trajectories
rely on the hint, and it saves an agent a wasted ``c``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

#: ``b``/``break``/``tbreak`` with ``file:line`` or a bare line, and an optional condition.
BREAK_COMMAND = re.compile(r"^(?:b|break|tbreak)\s+(?:(?P<file>[^\s:,]+):)?(?P<line>\d+)\s*(?:,.*)?$", re.DOTALL)


@dataclass(frozen=True)
class Header:
    """Lines ``first..last`` of a file are the header (decorators and signature) of ``function``."""

    function: str
    first: int
    last: int
    body: int  # the first line of the body where a breakpoint is hit when the function runs


@lru_cache(maxsize=64)
def headers(source: str) -> tuple[Header, ...]:
    """The function headers of ``source``, nested ones included; none when it does not parse.

    Cached by source: every ``b`` checks its file, which changes only when rewritten.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body[0].lineno == node.lineno:  # ``def f(): return x``: the line also runs at each call
            continue
        header_end = _first_line(body[0]) - 1
        # A docstring is a constant, not code: no line event, so a breakpoint there is never hit.
        if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        last = max(node.lineno, header_end)
        found.append(Header(node.name, start, last, _first_line(body[0])))
    return tuple(found)


def _first_line(stmt: ast.stmt) -> int:
    """Where a statement starts: its first decorator, for a decorated definition."""
    return min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])


def refusal(command: str, files: dict[str, str], frame_file: str | None) -> str | None:
    """Why ``command`` sets a breakpoint on a function header, naming the body's first line; None otherwise.

    Args:
        command: one pdb command line.
        files: the workspace's files by relative path.
        frame_file: the current frame's file, which a bare line number refers to.
    """
    match = BREAK_COMMAND.match(command.strip())
    if not match:
        return None
    path = match["file"] or frame_file
    if path and path.startswith("./"):
        path = path[2:]
    if not path or path not in files:
        return None
    line = int(match["line"])
    for header in headers(files[path]):
        if header.first <= line <= header.last:
            return (
                f"No breakpoint set: {path}:{line} is the header of {header.function}(), which runs once, when "
                f"the function is defined, not when it is called. Its body starts at line {header.body}: "
                f"b {path}:{header.body}"
            )
    return None
