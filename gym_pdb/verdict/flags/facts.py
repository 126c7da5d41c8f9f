"""Reading the test files: the expected value for each literal input, and the names and files they use."""

from __future__ import annotations

import ast
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from .literals import NO, bindings, literal, trivial
from .syntax import BUILTIN_NAMES, aliases, bound_names, is_str, module_name, parse, qualify


@dataclass
class Facts:
    """What the test files give away: expected values by literal input, their names, what they use."""

    #: Per input key (a literal, a (callee, slot, literal) or a ("seq", literals) key), the expected values.
    outcomes: dict[Hashable, set[Hashable]] = field(default_factory=dict)
    callees: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=lambda: {"conftest"})
    refs: set[str] = field(default_factory=set)
    #: Per star-imported module, the names the tests call on a computed value (``sorted(f(x))``).
    star_uses: dict[str, set[str]] = field(default_factory=dict)
    #: Per star-imported module, the names the tests import before it and do not import again after.
    star_shadowed: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, tests: Mapping[str, str]) -> Facts:
        facts = cls()
        for path, text in tests.items():
            if not isinstance(path, str):
                continue
            facts.files.add(path.rsplit("/", 1)[-1])
            if path.endswith(".py"):
                facts.modules |= {module_name(path), module_name(path.rsplit("/", 1)[-1])}
            tree = parse(text)
            if tree is not None:
                try:
                    facts._read_tree(tree)
                except RecursionError:
                    continue
        return facts

    def _read_tree(self, tree: ast.Module) -> None:
        nodes = list(ast.walk(tree))
        module_env, _ = bindings(tree.body)
        self._add_asserts(tree.body, [module_env], {})
        for fn in nodes:
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                fn_nodes = list(ast.walk(fn))
                literals, calls = bindings(fn_nodes)
                self._add_asserts(fn_nodes, [{**module_env, **literals, **row} for row in _parametrized(fn)], calls)
        imported = aliases(nodes)
        self.refs.update(filter(None, (qualify(n, imported) for n in nodes if isinstance(n, (ast.Name, ast.Attribute)))))
        results = set(bindings(nodes)[1])
        wrapping = {
            n.func.id for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id in BUILTIN_NAMES and any(isinstance(m, ast.Call) or isinstance(m, ast.Name) and m.id in results
                                                   for a in n.args for m in ast.walk(a))
        }  # fmt: skip
        bound = {name for node in nodes for name in bound_names(node)}
        stars = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 0 and n.names[0].name == "*"]
        for star in stars:
            module = star.module or ""
            last = max(n.lineno for n in stars if n.module == module)
            before = {name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) and n.lineno < last
                      and getattr(n, "module", None) != module for name in bound_names(n)}  # fmt: skip
            after = {name for n in tree.body if n.lineno > last for m in ast.walk(n) for name in bound_names(m)}
            self.star_uses.setdefault(module, set()).update(wrapping - bound)
            self.star_shadowed.setdefault(module, set()).update(before - after)

    def _add_asserts(self, nodes: Sequence[ast.AST], envs: list[dict[str, object]], calls: dict[str, ast.Call]) -> None:
        for node in nodes:
            for env in envs:
                if isinstance(node, ast.Assert):
                    self._add_assert(node.test, env, calls, asserted=True)
                elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                    self._add_assert(node.value, env, calls, asserted=False)

    def _add_assert(self, test: ast.expr, env: dict[str, object], calls: dict[str, ast.Call], asserted: bool) -> None:
        """The pairs of one ``assert`` (or ``self.assertEqual(...)`` call when not ``asserted``)."""
        sides: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is)):
            sides = [(test.left, test.comparators[0]), (test.comparators[0], test.left)]
        elif isinstance(test, ast.Call):
            name = test.func.attr if isinstance(test.func, ast.Attribute) else getattr(test.func, "id", "")
            if name in ("assertTrue", "assertFalse") and test.args:
                self._add_pair(test.args[0], ("const", name == "assertTrue"), env, calls)
            elif ("equal" in name.lower() or "close" in name.lower()) and len(test.args) >= 2:
                sides = [(test.args[0], test.args[1]), (test.args[1], test.args[0])]
            elif asserted and not name.startswith("assert"):
                self._add_pair(test, ("const", True), env, calls)
        elif asserted and isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self._add_pair(test.operand, ("const", False), env, calls)
        for actual, expected in sides:
            key = literal(expected, env)
            if key is not NO:
                self._add_pair(actual, key, env, calls)

    def _add_pair(self, actual: ast.expr, expected: Hashable, env: dict[str, object], calls: dict[str, ast.Call]) -> None:
        if isinstance(actual, ast.Name) and actual.id in calls:
            actual = calls[actual.id]
        for call in (n for n in ast.walk(actual) if isinstance(n, ast.Call)):
            callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            slots: list[tuple[int | str, ast.expr]] = [(i, a) for i, a in enumerate(call.args) if not isinstance(a, ast.Starred)]
            slots += [(k.arg, k.value) for k in call.keywords if k.arg]
            keys = [(slot, literal(a, env)) for slot, a in slots]
            self._add_outcomes([k for _, k in keys if k is not NO], expected)
            self._add_outcomes([(callee, slot, k) for slot, k in keys if k is not NO], expected)
            if keys and all(k is not NO for _, k in keys):
                self._add_outcomes([("seq", tuple(k for _, k in keys))], expected)
            self.callees.add(callee)

    def _add_outcomes(self, inputs: list[Hashable], expected: Hashable) -> None:
        for key in inputs:
            self.outcomes.setdefault(key, set()).add(expected)

    def determines(self, given: Hashable, result: Hashable, where: tuple[str, list[int | str]] | None = None) -> bool:
        """Whether the tests expect ``result`` whenever they pass ``given``, a telling input.

        ``where`` (a function the tests call, the slots of the parameter compared: its index and name) counts
        only the calls that pass ``given`` in that parameter.
        """
        if trivial(given):
            return False
        if where is None:
            return self.outcomes.get(given) == {result}
        callee, slots = where
        return any(self.outcomes.get((callee, slot, given)) == {result} for slot in slots)


def _parametrized(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[dict[str, object]]:
    """The literal arguments of each case of ``@pytest.mark.parametrize`` (one empty case without it)."""
    cases: list[dict[str, object]] = [{}]
    for decorator in fn.decorator_list:
        if not (isinstance(decorator, ast.Call) and len(decorator.args) >= 2):
            continue
        if not (isinstance(decorator.func, ast.Attribute) and decorator.func.attr == "parametrize"):
            continue
        spec, values = decorator.args[0], literal(decorator.args[1])
        if is_str(spec):
            names = [n.strip() for n in spec.value.split(",") if n.strip()]
        else:
            names = [e.value for e in getattr(spec, "elts", []) if is_str(e)]
        if not names or not (isinstance(values, tuple) and values[0] == "seq"):
            continue
        rows: list[tuple[Hashable, ...]]
        if len(names) == 1:
            rows = [(row,) for row in values[1]]
        else:
            rows = [row[1] for row in values[1] if isinstance(row, tuple) and row[0] == "seq" and len(row[1]) == len(names)]
        cases = [{**case, **dict(zip(names, row, strict=True))} for case in cases for row in rows][:1000]
    return cases or [{}]
