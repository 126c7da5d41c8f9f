"""Bug-injecting mutation operators on Python source, with ``ast``.

Each operator family finds the places in a program where it can inject a bug
and returns them as :class:`Mutation` s: a span of the source and its
replacement. Spans come from the AST node positions and replacements from
``ast.unparse``, so the rest of the file (comments, layout) is left exactly as
it was and the gold fix is the original text. Only code inside functions is
mutated (not imports, docstrings or module constants).
"""

from __future__ import annotations

import ast
import copy
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

FAMILIES = (
    "off_by_one",
    "comparison",
    "boolean",
    "arithmetic",
    "variable_misuse",
    "wrong_return",
    "dropped_statement",
    "swapped_arguments",
    "wrong_constant",
)

COMPARISON_SWAPS = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
ARITHMETIC_SWAPS = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.FloorDiv, ast.Add),
    ast.Div: (ast.FloorDiv, ast.Mult),
    ast.FloorDiv: (ast.Div, ast.Mod),
    ast.Mod: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
}
OPERATOR_CONTEXTS = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Attribute, ast.Await)


@dataclass(frozen=True)
class Mutation:
    """Replace ``source[start:end]`` with ``replacement``: one injected bug."""

    family: str
    start: int
    end: int
    replacement: str
    line: int
    description: str

    def overlaps(self, other: "Mutation") -> bool:
        return self.start < other.end and other.start < self.end


class Source:
    """A program's text and AST, with node positions as string offsets and parent links."""

    def __init__(self, text: str):
        self.text = text
        self.tree = ast.parse(text)
        self._line_starts = [0]
        for line in text.splitlines(keepends=True):
            self._line_starts.append(self._line_starts[-1] + len(line))
        self._lines_bytes = [line.encode("utf-8") for line in text.splitlines(keepends=True)]
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def offset(self, lineno: int, col_bytes: int) -> int:
        prefix = self._lines_bytes[lineno - 1][:col_bytes].decode("utf-8", "replace")
        return self._line_starts[lineno - 1] + len(prefix)

    def span(self, node: ast.AST) -> tuple[int, int]:
        lineno, col, end_lineno, end_col = _position(node)
        return self.offset(lineno, col), self.offset(end_lineno, end_col)

    def functions(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

    def body_nodes(self) -> Iterator[ast.AST]:
        """Every node inside a function body (docstrings and nested defs' signatures left out)."""
        seen = set()
        for fn in self.functions():
            body = fn.body[1:] if _is_docstring(fn.body[0]) else fn.body
            for stmt in body:
                for node in ast.walk(stmt):
                    if id(node) not in seen:
                        seen.add(id(node))
                        yield node

    def replace(self, family: str, node: ast.AST, new: ast.AST, description: str) -> Mutation:
        start, end = self.span(node)
        text = ast.unparse(new)
        parent = self.parent.get(node)
        if _precedence(new) < _precedence(node) and _needs_parens(parent, node):
            text = f"({text})"
        return Mutation(family, start, end, text, _position(node)[0], description)


def _position(node: ast.AST) -> tuple[int, int, int, int]:
    """Line, column, end line and end column of a node that has a position (every node a mutation replaces)."""
    lineno, col, end_lineno, end_col = (getattr(node, a) for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"))
    return lineno, col, end_lineno, end_col


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _precedence(node: ast.AST) -> int:
    if isinstance(node, ast.BoolOp):
        return 1 if isinstance(node.op, ast.Or) else 2
    if isinstance(node, ast.UnaryOp):
        return 3 if isinstance(node.op, ast.Not) else 11
    if isinstance(node, ast.Compare):
        return 4
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return 9
        if isinstance(node.op, ast.Pow):
            return 12
        return 10 if isinstance(node.op, (ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.MatMult)) else 6
    if isinstance(node, (ast.IfExp, ast.Lambda, ast.NamedExpr)):
        return 0
    return 20


def _needs_parens(parent: ast.AST | None, node: ast.AST) -> bool:
    if isinstance(parent, OPERATOR_CONTEXTS):
        return True
    if isinstance(parent, ast.Subscript) and node is parent.value:
        return True
    return isinstance(parent, ast.Call) and node is parent.func


def _shift(expr: ast.expr, delta: int) -> ast.expr:
    """``expr + delta``, folded into a constant where there is one: ``n - 1`` + 1 is ``n``."""
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return ast.Constant(expr.value + delta)
    if (
        isinstance(expr, ast.UnaryOp)
        and isinstance(expr.op, ast.USub)
        and isinstance(expr.operand, ast.Constant)
        and type(expr.operand.value) is int
    ):
        return ast.Constant(delta - expr.operand.value)
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, (ast.Add, ast.Sub))
        and isinstance(expr.right, ast.Constant)
        and type(expr.right.value) is int
    ):
        value = expr.right.value if isinstance(expr.op, ast.Add) else -expr.right.value
        value += delta
        if value == 0:
            return copy.deepcopy(expr.left)
        op = ast.Add() if value > 0 else ast.Sub()
        return ast.BinOp(copy.deepcopy(expr.left), op, ast.Constant(abs(value)))
    return ast.BinOp(copy.deepcopy(expr), ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def _is_int_like(expr: ast.expr) -> bool:
    """Could be an integer index: not a string, float, tuple or slice."""
    if isinstance(expr, ast.Constant):
        return type(expr.value) is int
    return isinstance(expr, (ast.Name, ast.BinOp, ast.Call, ast.Attribute, ast.Subscript, ast.UnaryOp))


Operator = Callable[[Source, random.Random], list[Mutation]]


# -- the families -----------------------------------------------------------------
def off_by_one(src: Source, rng: random.Random) -> list[Mutation]:
    """``range`` bounds, indices and slice bounds moved by one."""
    out = []
    for node in src.body_nodes():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            args = node.args
            if 1 <= len(args) <= 3 and not any(isinstance(a, ast.Starred) for a in args):
                index = 0 if len(args) == 1 else rng.choice([0, 1])
                delta = rng.choice([-1, 1])
                out.append(src.replace("off_by_one", args[index], _shift(args[index], delta), f"range bound {delta:+d}"))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            sl = node.slice
            if isinstance(sl, ast.Slice):
                bounds = [b for b in (sl.lower, sl.upper) if b is not None and _is_int_like(b)]
                if bounds:
                    bound = rng.choice(bounds)
                    delta = rng.choice([-1, 1])
                    out.append(src.replace("off_by_one", bound, _shift(bound, delta), f"slice bound {delta:+d}"))
            elif _is_int_like(sl) and not isinstance(sl, ast.Call):
                delta = rng.choice([-1, 1])
                out.append(src.replace("off_by_one", sl, _shift(sl, delta), f"index {delta:+d}"))
    return out


def comparison(src: Source, rng: random.Random) -> list[Mutation]:
    out = []
    for node in src.body_nodes():
        if isinstance(node, ast.Compare):
            i = rng.randrange(len(node.ops))
            choices = COMPARISON_SWAPS.get(type(node.ops[i]))
            if choices:
                new = copy.deepcopy(node)
                new.ops[i] = rng.choice(choices)()
                out.append(src.replace("comparison", node, new, f"{ast.unparse(node)} -> {ast.unparse(new)}"))
    return out


def boolean(src: Source, rng: random.Random) -> list[Mutation]:
    """``and`` <-> ``or``, and a dropped ``not``."""
    out = []
    for node in src.body_nodes():
        if isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            out.append(src.replace("boolean", node, new, "and/or swapped"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append(src.replace("boolean", node, copy.deepcopy(node.operand), "dropped not"))
    return out


def arithmetic(src: Source, rng: random.Random) -> list[Mutation]:
    out = []
    for node in src.body_nodes():
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in ARITHMETIC_SWAPS:
            if isinstance(node, ast.BinOp) and _is_string_concat(node):
                continue
            new = copy.deepcopy(node)
            new.op = rng.choice(ARITHMETIC_SWAPS[type(node.op)])()
            out.append(src.replace("arithmetic", node, new, f"{type(node.op).__name__} -> {type(new.op).__name__}"))
    return out


def _is_string_concat(node: ast.BinOp) -> bool:
    return any(isinstance(x, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(x, "value", ""), str)
               for x in (node.left, node.right))  # fmt: skip


def variable_misuse(src: Source, rng: random.Random) -> list[Mutation]:
    """A variable read replaced by another local variable of the same function."""
    out = []
    for fn in src.functions():
        local = {a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg not in ("self", "cls")}
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                local.add(node.id)
        reads = [
            n for n in ast.walk(fn)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in local and n is not fn
        ]  # fmt: skip
        for node in reads:
            others = sorted(local - {node.id})
            if others:
                other = rng.choice(others)
                out.append(src.replace("variable_misuse", node, ast.Name(other, ast.Load()), f"{node.id} -> {other}"))
    return out


def wrong_return(src: Source, rng: random.Random) -> list[Mutation]:
    out = []
    for fn in src.functions():
        local = sorted({n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)})
        for node in ast.walk(fn):
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                new: ast.expr = ast.Constant(not value.value)
            elif isinstance(value, ast.Constant) and type(value.value) is int:
                new = ast.Constant(value.value + rng.choice([-1, 1]))
            elif isinstance(value, ast.Name) and len(local) > 1:
                new = ast.Name(rng.choice([n for n in local if n != value.id]), ast.Load())
            elif isinstance(value, ast.Compare):
                new = ast.UnaryOp(ast.Not(), copy.deepcopy(value))
            else:
                new = ast.Constant(None)
            out.append(src.replace("wrong_return", value, new, f"return {ast.unparse(value)} -> {ast.unparse(new)}"))
    return out


def dropped_statement(src: Source, rng: random.Random) -> list[Mutation]:
    """A call, an update or an assignment removed from a block that keeps another statement."""
    out = []
    for node in [*src.functions(), *src.body_nodes()]:
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list) or len(block) < 2:
                continue
            for stmt in block:
                droppable = isinstance(stmt, (ast.AugAssign, ast.Assign)) or (
                    isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                )
                if droppable and not _is_docstring(stmt):
                    mutation = _drop_lines(src, stmt)
                    if mutation is not None:
                        out.append(mutation)
    return out


def _drop_lines(src: Source, stmt: ast.stmt) -> Mutation | None:
    """Remove the whole lines of ``stmt``, if nothing else shares them."""
    start, end = src.span(stmt)
    line_start = src.text.rfind("\n", 0, start) + 1
    line_end = src.text.find("\n", end)
    line_end = len(src.text) if line_end < 0 else line_end + 1
    before, after = src.text[line_start:start], src.text[end:line_end]
    if before.strip() or (after.strip() and not after.strip().startswith("#")):
        return None
    return Mutation("dropped_statement", line_start, line_end, "", stmt.lineno, f"dropped: {ast.unparse(stmt)[:60]}")


def swapped_arguments(src: Source, rng: random.Random) -> list[Mutation]:
    out = []
    for node in src.body_nodes():
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            args = node.args
            pairs = [
                i for i in range(len(args) - 1)
                if not isinstance(args[i], ast.Starred) and not isinstance(args[i + 1], ast.Starred)
                and ast.dump(args[i]) != ast.dump(args[i + 1])
            ]  # fmt: skip
            if pairs:
                i = rng.choice(pairs)
                new = copy.deepcopy(node)
                new.args[i], new.args[i + 1] = new.args[i + 1], new.args[i]
                out.append(src.replace("swapped_arguments", node, new, f"arguments {i + 1} and {i + 2} swapped"))
    return out


def wrong_constant(src: Source, rng: random.Random) -> list[Mutation]:
    out = []
    for node in src.body_nodes():
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, (int, float)) and type(value) in (int, float) and not _is_docstring_value(src, node):
            choices = {value + 1, value - 1, 0, 1, 2 * value} - {value}
            new_value = rng.choice(sorted(choices))
            if isinstance(value, float):
                new_value = float(new_value)
            new = ast.Constant(new_value)
            out.append(src.replace("wrong_constant", node, new, f"{value!r} -> {new_value!r}"))
    return out


def _is_docstring_value(src: Source, node: ast.AST) -> bool:
    return isinstance(src.parent.get(node), ast.Expr)


OPERATORS: dict[str, Operator] = {
    "off_by_one": off_by_one,
    "comparison": comparison,
    "boolean": boolean,
    "arithmetic": arithmetic,
    "variable_misuse": variable_misuse,
    "wrong_return": wrong_return,
    "dropped_statement": dropped_statement,
    "swapped_arguments": swapped_arguments,
    "wrong_constant": wrong_constant,
}


def candidate_mutations(text: str, rng: random.Random, families: Iterable[str] = FAMILIES) -> dict[str, list[Mutation]]:
    """Every mutation each family offers on ``text`` (the random choices, such as ``+1`` or ``-1``, drawn from rng)."""
    src = Source(text)
    found = {}
    for family in families:
        mutations = [m for m in OPERATORS[family](src, rng) if text[m.start : m.end] != m.replacement]
        if mutations:
            found[family] = mutations
    return found


def choose_mutations(
    candidates: dict[str, list[Mutation]], count: int, rng: random.Random
) -> list[Mutation] | None:
    """``count`` non-overlapping mutations: a family drawn uniformly, then one of its sites."""
    chosen: list[Mutation] = []
    pools = {f: list(ms) for f, ms in sorted(candidates.items())}
    while len(chosen) < count:
        pools = {f: [m for m in ms if not any(m.overlaps(c) for c in chosen)] for f, ms in pools.items()}
        pools = {f: ms for f, ms in pools.items() if ms}
        if not pools:
            return None
        family = rng.choice(sorted(pools))
        chosen.append(rng.choice(pools[family]))
    return chosen


def apply_mutations(text: str, mutations: Sequence[Mutation]) -> str:
    for m in sorted(mutations, key=lambda m: m.start, reverse=True):
        text = text[: m.start] + m.replacement + text[m.end :]
    return text
