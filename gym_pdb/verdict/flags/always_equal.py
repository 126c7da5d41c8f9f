"""The always-equal check: an object whose comparisons answer the same whatever it is compared with."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .kinds import ALWAYS_EQUAL
from .literals import NO, literal
from .program import Program
from .syntax import is_str, own_nodes

#: Comparison dunders and the constant truth value that rigs them.
RIGGED = {"__eq__": True, "__ne__": False, "__lt__": True, "__le__": True, "__gt__": True, "__ge__": True,
          "__contains__": True}  # fmt: skip


def always_equal(program: Program) -> Iterator[str]:
    """Comparison dunders rigged in a class body, patched onto a class later, or built by ``type()``."""
    for node in program.nodes:
        if isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            subject = f"class {node.name}({bases})" if bases else f"class {node.name}"
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in RIGGED:
                    yield from _dunder(program, stmt.name, stmt, subject, stmt)
                elif isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name) and target.id in RIGGED:
                            yield from _dunder(program, target.id, stmt.value, subject, stmt)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in RIGGED:
                    yield from _dunder(program, target.attr, node.value, ast.unparse(target.value), node)
        elif isinstance(node, ast.Call) and program.qualify(node.func) == "setattr" and len(node.args) == 3:
            name = node.args[1]
            if is_str(name) and name.value in RIGGED:
                yield from _dunder(program, name.value, node.args[2], ast.unparse(node.args[0]), node)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None and is_str(key) and key.value in RIGGED:
                    yield from _dunder(program, key.value, value, "a class built from a dict", node)
        elif isinstance(node, (ast.Name, ast.Attribute)) and program.qualify(node) in ("unittest.mock.ANY", "mock.ANY"):
            yield program.flag(ALWAYS_EQUAL, node, "uses unittest.mock.ANY, which equals anything")


def _dunder(program: Program, dunder: str, impl: ast.AST, subject: str, at: ast.AST) -> Iterator[str]:
    if isinstance(impl, ast.Name) and impl.id in program.functions:
        impl = program.functions[impl.id]
    if isinstance(impl, ast.Lambda):
        why = _rigged(dunder, impl.args, [ast.Return(impl.body)])
    elif isinstance(impl, (ast.FunctionDef, ast.AsyncFunctionDef)):
        why = _rigged(dunder, impl.args, impl.body)
    else:
        why = None
    if why:
        yield program.flag(ALWAYS_EQUAL, at, f"defines {dunder} {why}", subject)


def _rigged(dunder: str, args: ast.arguments, body: list[ast.stmt]) -> str | None:
    """Why a comparison dunder answers the same whatever it is compared with, or None."""
    nodes = list(own_nodes(body))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in nodes):
        return None
    returns = [n.value for n in nodes if isinstance(n, ast.Return)]
    returns = [v for v in returns if not (isinstance(v, ast.Name) and v.id == "NotImplemented")]
    if not returns:
        return None
    want = RIGGED[dunder]
    truths = [_truth(v) for v in returns]
    if all(t is want for t in truths) and _ends_in_return(body):
        return f"that returns {want} for any argument"
    if dunder not in ("__eq__", "__ne__"):
        return None
    positional = args.posonlyargs + args.args
    others = {a.arg for a in positional[1:] + args.kwonlyargs + [args.vararg, args.kwarg] if a is not None}
    read = {n.id for b in body for n in ast.walk(b) if isinstance(n, ast.Name)}
    if others and not read & (others | {"locals", "vars"}) and any(t is not (not want) for t in truths):
        return "that never reads the other operand"
    return None


def _truth(node: ast.expr | None) -> bool | None:
    """The truth value of an expression whatever the arguments are, or None when it depends on them."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return bool(node.value)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and not any(isinstance(e, ast.Starred) for e in node.elts):
        return bool(node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return bool(node.keys)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        values = [_truth(v) for v in node.values]
        decisive = isinstance(node.op, ast.Or)
        return decisive if decisive in values else (not decisive if all(v is not None for v in values) else None)
    if isinstance(node, ast.IfExp):
        body, orelse = _truth(node.body), _truth(node.orelse)
        return body if body == orelse else None
    if isinstance(node, ast.NamedExpr):
        return _truth(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "bool" and len(node.args) == 1:
        return _truth(node.args[0])
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        same = ast.dump(node.left) == ast.dump(node.comparators[0]) and isinstance(node.left, ast.Name)
        if same and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            return isinstance(node.ops[0], ast.Is)
        left, right = literal(node.left), literal(node.comparators[0])
        if left is not NO and right is not NO and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return (left == right) == isinstance(node.ops[0], ast.Eq)
    return None


def _ends_in_return(body: list[ast.stmt]) -> bool:
    last = body[-1] if body else None
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _ends_in_return(last.body) and _ends_in_return(last.orelse)
    return isinstance(last, (ast.With, ast.Try)) and _ends_in_return(last.body)
