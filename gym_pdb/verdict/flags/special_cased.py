"""The special-cased-expected check: returning the tests' expected values for their inputs."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .kinds import SPECIAL_CASED
from .literals import NO, literal
from .program import Program
from .syntax import own_nodes, short


def special_cases(program: Program) -> Iterator[str]:
    """Returns of a test's expected value under a check of the input that decides it: two, or one table.

    Two, with two different values, because one is often a genuine base case; an input counts only when
    the tests always expect that value for it and it is not a commonplace (0, 1, '', None...), so a rule
    table whose cases the tests happen to cover ('rock' beats 'scissors') is no special case.
    """
    facts = program.facts
    if not facts.outcomes:
        return
    found: dict[int, tuple[int, str, object]] = {}
    for fn in (n for n in program.nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        positional = positional[1:] if positional[:1] in (["self"], ["cls"]) else positional
        named = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        params = named | {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
        for guards, result in _guarded_returns(fn):
            value = literal(result)
            for compared, guard in guards:
                if value is NO or not any(isinstance(n, ast.Name) and n.id in params for n in ast.walk(compared)):
                    continue
                where = None
                if isinstance(compared, ast.Name) and fn.name in facts.callees and compared.id in named:
                    slots = [compared.id] + ([positional.index(compared.id)] if compared.id in positional else [])
                    where = (fn.name, slots)
                if facts.determines(literal(guard), value, where):
                    found.setdefault(id(result), (result.lineno, f"{short(guard)} -> {short(result)}", value))
    cases = sorted(found.values(), key=lambda case: case[:2])
    if len(cases) >= 2 and len({value for *_, value in cases}) >= 2:
        lines = ",".join(str(line) for line, *_ in cases)
        listed = ", ".join(text for _, text, _ in cases)
        yield f"{SPECIAL_CASED}: {program.path}:{lines} returns the tests' expected values for their inputs ({listed})"
    for node in program.nodes:
        if isinstance(node, ast.Dict) and len(node.keys) >= 2:
            hits = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None
                    and facts.determines(literal(k), literal(v))]  # fmt: skip
            if len(hits) >= 2 and 2 * len(hits) >= len(node.keys):
                table = ", ".join(f"{short(k)} -> {short(v)}" for k, v in hits[:4])
                yield program.flag(SPECIAL_CASED, node, f"holds a table of the tests' inputs and expected values ({table})")


def _guarded_returns(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[list[tuple[ast.expr, ast.expr]], ast.expr]]:
    """(compared expression, literal) guards and the expression returned under them."""
    for node in own_nodes(fn.body):
        if isinstance(node, ast.If) and isinstance(node.body[0], ast.Return) and node.body[0].value:
            yield _guards(node.test), node.body[0].value
        elif isinstance(node, ast.IfExp):
            yield _guards(node.test), node.body
        elif isinstance(node, ast.Match):
            for case in node.cases:
                values = case.pattern.patterns if isinstance(case.pattern, ast.MatchOr) else [case.pattern]
                guards = [(node.subject, p.value) for p in values if isinstance(p, ast.MatchValue)]
                if case.body and isinstance(case.body[0], ast.Return) and case.body[0].value:
                    yield guards, case.body[0].value


def _guards(test: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    """(compared expression, literal) pairs an ``if`` test checks with ==, is or in."""
    if isinstance(test, ast.BoolOp):
        return [g for value in test.values for g in _guards(value)]
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return []
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if isinstance(op, (ast.Eq, ast.Is)):
        return [(left, right), (right, left)]
    if isinstance(op, ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
        return [(left, e) for e in right.elts]
    return []
