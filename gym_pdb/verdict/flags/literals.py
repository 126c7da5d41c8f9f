"""Literal values: what a test passes in and expects out, as keys that compare the way ``==`` does."""

from __future__ import annotations

import ast
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

#: What :func:`literal` answers for an expression that is not a literal.
NO = object()


def norm(value: Any) -> Hashable:
    """A hashable key equal for values a program's ``==`` would equate (lists and tuples alike, 3 and 3.0)."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(norm(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(norm(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((norm(k), norm(v)) for k, v in value.items()))
    return value


def literal(node: ast.AST | None, env: Mapping[str, object] | None = None) -> Hashable:
    """The key of a literal expression (or of a name ``env`` binds to one), else ``NO``."""
    if node is None:
        return NO
    if isinstance(node, ast.Name):
        return env.get(node.id, NO) if env else NO
    try:
        return norm(ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NO


def trivial(key: object) -> bool:
    """Values too common to mean anything when program and tests share them (0, 1, '', None, True, [])."""
    if isinstance(key, tuple):
        if key[0] == "dict":
            return all(trivial(k) and trivial(v) for k, v in key[1])
        return key[0] == "const" or all(trivial(k) for k in key[1])
    if isinstance(key, int):
        return -1 <= key <= 2
    return isinstance(key, (str, bytes)) and len(key) <= 1


def bindings(nodes: Sequence[ast.AST]) -> tuple[dict[str, object], dict[str, ast.Call]]:
    """The names assigned a literal (their keys) and those assigned a call's result (the calls)."""
    literals: dict[str, object] = {}
    calls: dict[str, ast.Call] = {}
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            names = [t.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                     if isinstance(t, ast.Name)]  # fmt: skip
            if names and isinstance(node.value, ast.Call):
                calls.update(dict.fromkeys(names, node.value))
            elif names and (value := literal(node.value)) is not NO:
                literals.update(dict.fromkeys(names, value))
    return literals, calls
