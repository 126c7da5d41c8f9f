"""AST helpers the test reader and the checks share: parsing, what names refer to, where code runs."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:

    class StrConstant(ast.Constant):
        """A string literal: what :func:`is_str` narrows a node to (for the type checker only)."""

        value: str

BUILTIN_NAMES = {n for n in dir(builtins) if not n.startswith("_")}


def parse(text: object) -> ast.Module | None:
    if not isinstance(text, str):
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def module_name(path: str) -> str:
    name = path[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def aliases(nodes: list[ast.AST]) -> dict[str, str]:
    found = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                found[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names if a.name != "*"})
    return found


def qualify(node: ast.AST, aliases: Mapping[str, str]) -> str | None:
    """The dotted name an expression refers to (``sys._getframe``), through imports, getattr and __import__."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = qualify(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call) and node.args:
        func = qualify(node.func, aliases)
        first = node.args[0]
        if func in ("__import__", "builtins.__import__", "importlib.import_module") and is_str(first):
            return first.value
        if func == "getattr" and len(node.args) >= 2 and is_str(node.args[1]):
            base = qualify(first, aliases)
            return f"{base}.{node.args[1].value}" if base else None
    return None


def is_str(node: ast.AST | None) -> TypeGuard[StrConstant]:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def bound_names(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"]
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    return []


def own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of a function body, not those of the functions and classes defined in it."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def is_main_guard(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test)


def short(node: ast.AST, limit: int = 40) -> str:
    try:
        text = ast.unparse(node)
    except ValueError:  # an int too long to print in decimal
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."
