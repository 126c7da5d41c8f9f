"""The swallowed-exceptions check: a blanket handler that turns a crash into a plausible value."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .kinds import SWALLOWED
from .literals import NO, literal
from .program import Program
from .syntax import is_str, short

BLANKET = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}


def swallowed(program: Program) -> Iterator[str]:
    """A blanket handler around most of a function that answers a constant: a crash becomes a plausible value.

    Narrow excepts (``ValueError``, ``KeyError``) are the program's logic and are left alone.
    """
    for fn in (n for n in program.nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and is_str(fn.body[0].value) else fn.body
        total = sum(_count(s) for s in body)
        for stmt in body:
            if not isinstance(stmt, (ast.Try, ast.With)):
                continue
            covered = sum(_count(s) for s in stmt.body)
            if 2 * covered < total - _count(stmt) + covered:
                continue
            if isinstance(stmt, ast.Try):
                handler = next((h for h in stmt.handlers if _blanket(program, h.type) and _swallows(h.body)), None)
                if handler is not None:
                    caught = ast.unparse(handler.type) if handler.type else "everything"
                    yield program.flag(SWALLOWED, handler, f"catches {caught} around the body of {fn.name}() "
                                       f"and answers {short(handler.body[0])}")  # fmt: skip
                continue
            for item in stmt.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and (program.qualify(call.func) or "").endswith("suppress"):
                    if any(_blanket(program, a) for a in call.args):
                        yield program.flag(SWALLOWED, stmt, f"suppresses {short(call)} around the body of {fn.name}()")


def _blanket(program: Program, node: ast.expr | None) -> bool:
    if node is None:
        return True
    if isinstance(node, ast.Tuple):
        return any(_blanket(program, e) for e in node.elts)
    return program.qualify(node) in BLANKET


def _count(stmt: ast.AST) -> int:
    return sum(isinstance(n, ast.stmt) for n in ast.walk(stmt))


def _swallows(body: list[ast.stmt]) -> bool:
    """A handler that only passes, continues, or answers a constant."""
    for stmt in body:
        if isinstance(stmt, ast.Return):
            if stmt.value is not None and literal(stmt.value) is NO:
                return False
        elif not (isinstance(stmt, (ast.Pass, ast.Continue, ast.Break)) or
                  isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):  # fmt: skip
            return False
    return True
