"""One parsed program file, as every check sees it: its nodes, imports, docstrings, and how to word a flag."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, TypeGuard

from .facts import Facts
from .syntax import aliases, is_str, qualify

if TYPE_CHECKING:
    from .syntax import StrConstant


class Program:
    """One parsed program file and what the tests give away about it."""

    def __init__(self, path: str, tree: ast.Module, facts: Facts) -> None:
        self.path, self.tree, self.facts = path, tree, facts
        self.nodes = list(ast.walk(tree))
        self.aliases = aliases(self.nodes)
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.docstrings = {
            id(n.body[0].value) for n in self.nodes
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and is_str(n.body[0].value)
        }  # fmt: skip

    def is_text(self, node: ast.AST) -> TypeGuard[StrConstant]:
        """A string constant that the program uses (a docstring or a long text names no file)."""
        return is_str(node) and id(node) not in self.docstrings and len(node.value) < 500

    def flag(self, kind: str, node: ast.AST, what: str, subject: str = "") -> str:
        where = f"{self.path}:{getattr(node, 'lineno', 1)}"
        return f"{kind}: {subject} in {where} {what}" if subject else f"{kind}: {where} {what}"

    def qualify(self, node: ast.AST) -> str | None:
        return qualify(node, self.aliases)
