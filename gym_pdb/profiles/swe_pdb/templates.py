"""SWE-PDB's observation texts, rendered from the f-strings of its release's source.

A text is found by where it is assigned (``var`` in a function, the ``nth``
assignment) or by a fragment of its literal parts, and rendered with the
values gym-pdb computed: each ``{expression}`` of the f-string is evaluated
over those values only (no builtins but ``len`` and ``str``), so the texts
stay SWE-PDB's and the logic stays gym-pdb's.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import Any

from gym_pdb.profiles.swe_pdb.release import find_release

SAFE_BUILTINS = {"len": len, "str": str}


@lru_cache(maxsize=None)
def function_node(relpath: str, qualname: str) -> ast.AST:
    """The class or function ``qualname`` (``Class.method``) of ``debug_gym/relpath``, parsed."""
    tree = ast.parse((find_release() / "debug_gym" / relpath).read_text(encoding="utf-8"))
    scope: ast.AST = tree
    for part in qualname.split("."):
        scope = next(
            node
            for node in ast.walk(scope)
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == part
        )
    return scope


@lru_cache(maxsize=None)
def assigned(relpath: str, qualname: str, var: str, nth: int = 0) -> ast.expr:
    """The ``nth`` value assigned to ``var`` in the function ``qualname`` of ``debug_gym/relpath``."""
    values = [
        node.value
        for node in ast.walk(function_node(relpath, qualname))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == var for t in node.targets)
    ]
    values.sort(key=lambda v: (v.lineno, v.col_offset))
    return values[nth]


@lru_cache(maxsize=None)
def containing(relpath: str, qualname: str, fragment: str, nth: int = 0) -> ast.expr:
    """The ``nth`` string expression of ``qualname`` whose literal parts contain ``fragment``."""
    found: list[ast.expr] = []
    for node in ast.walk(function_node(relpath, qualname)):
        if isinstance(node, (ast.JoinedStr, ast.BinOp)) and fragment in _literal(node):
            found.append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and fragment in node.value:
            found.append(node)
    if not found:
        raise LookupError(f"no text with {fragment!r} in {qualname} of debug_gym/{relpath}")
    # The outermost match: a BinOp of f-strings holds the f-string that matched too.
    found.sort(key=lambda n: (n.lineno, n.col_offset, -(getattr(n, "end_col_offset", 0) or 0)))
    outermost = [n for n in found if not any(o is not n and _inside(n, o) for o in found)]
    return outermost[nth]


def _inside(node: ast.expr, outer: ast.expr) -> bool:
    return any(child is node for child in ast.walk(outer))


def _literal(node: ast.AST) -> str:
    return "".join(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def render(node: ast.expr, values: dict[str, Any], branch: bool = True) -> str:
    """The text of ``node`` with ``values``; an ``a if cond else b`` takes ``a`` when ``branch``, else ``b``."""
    if isinstance(node, ast.IfExp):
        return render(node.body if branch else node.orelse, values)
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return render(node.left, values, branch) + render(node.right, values, branch)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                value = evaluate(part.value, values)
                spec = render(part.format_spec, values) if part.format_spec is not None else ""
                parts.append(repr(value) if part.conversion == ord("r") else format(value, spec))
        return "".join(parts)
    return str(evaluate(node, values))


_COMPILED: dict[int, tuple[ast.expr, Any]] = {}


def evaluate(expr: ast.expr, values: dict[str, Any]) -> Any:
    cached = _COMPILED.get(id(expr))
    if cached is None or cached[0] is not expr:  # the nodes live as long as the cached parse: compile each once
        cached = _COMPILED[id(expr)] = (expr, compile(ast.Expression(body=expr), "<swe-pdb text>", "eval"))
    code = cached[1]
    return eval(code, {"__builtins__": SAFE_BUILTINS}, dict(values))  # noqa: S307 - the release's own expressions
