"""Mechanical rewrites that turn an upstream solution into a gold fix.

- :func:`solution_to_functions`: a LeetCode ``class Solution`` (DebugBench's
  oracle code) into the plain functions a SWE-PDB program exposes.
- :func:`add_missing_imports`: LeetCode and EvalPlus solutions rely on names
  their judges import (``List``, ``defaultdict``, ``heapq``, ``inf``...).

Nothing here decides that a result is right: gold fixes are only attached
after their tests pass (see :mod:`gym_pdb.tasks.gold`).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable

#: Where the judges' implicit names come from, tried in this order.
PROVIDERS = ("typing", "collections", "heapq", "bisect", "itertools", "functools", "math", "string", "operator")
MODULES = frozenset(
    {"math", "heapq", "bisect", "collections", "itertools", "functools", "string", "re", "random", "operator",
     "typing", "sys", "copy", "statistics", "fractions", "decimal", "hashlib", "datetime", "json", "numpy"}
)  # fmt: skip
NAME_PATTERN = re.compile(r"^def\s+(\w+)|^class\s+(\w+)")


def normalise_name(name: str) -> str:
    """``getMaxRepetitions`` and ``get_max_repetitions`` alike: ``getmaxrepetitions``."""
    return name.replace("_", "").lower()


def free_names(tree: ast.AST) -> set[str]:
    """Names read somewhere and bound nowhere in the module (scopes merged: a cautious over-approximation)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return loaded - bound - set(dir(builtins))


def _provider(name: str) -> str | None:
    if name in MODULES:
        return f"import {name}"
    for module in PROVIDERS:
        mod = __import__(module)
        if name in getattr(mod, "__all__", dir(mod)) and not name.startswith("_"):
            return f"from {module} import {name}"
    return None


def add_missing_imports(source: str) -> str:
    """Prepend the imports of the free names a standard module provides (``List``, ``heapq``, ``inf``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = sorted({imp for name in free_names(tree) if (imp := _provider(name))})
    if not lines:
        return source
    return "\n".join(lines) + "\n\n" + source


class _SelfCalls(ast.NodeTransformer):
    """``self.method`` -> ``function`` for the class's own methods."""

    def __init__(self, renames: dict[str, str]):
        self.renames = renames

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.attr], ast.Load()), node)
        return node


def _uses_self_state(method: ast.FunctionDef) -> bool:
    """Whether ``self`` is still used once the calls of the class's methods were rewritten."""
    return any(isinstance(node, ast.Name) and node.id == "self" for node in ast.walk(method))


def _split_top_level(source: str) -> list[tuple[str | None, str]]:
    """Cut a module into top-level chunks ``(def name or None, text)`` by column-0 lines.

    Works on programs that do not parse (DebugBench's syntax bugs), where ast cannot.
    """
    chunks: list[tuple[str | None, list[str]]] = []
    for line in source.splitlines(keepends=True):
        starts = line[:1].strip() and not line.startswith(("#", ")", "]", "}", "@"))
        if starts or not chunks:
            match = NAME_PATTERN.match(line)
            name = match.group(1) if match and match.group(1) else None
            if chunks and chunks[-1][0] is None and chunks[-1][1] and chunks[-1][1][-1].startswith("@"):
                chunks[-1] = (name, chunks[-1][1] + [line])
            else:
                chunks.append((name, [line]))
        elif line.startswith("@"):
            chunks.append((None, [line]))
        else:
            chunks[-1][1].append(line)
    return [(name, "".join(lines)) for name, lines in chunks]


def _top_level_names(program: str) -> set[str]:
    """Names a program binds at module level (imports, classes, assignments), read line by line."""
    names = set()
    for line in program.splitlines():
        if match := re.match(r"^(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=", line):
            names.add(match.group(1) or match.group(2))
        elif match := re.match(r"^(?:from\s+\S+\s+)?import\s+(.+)$", line):
            for part in match.group(1).strip("()").split(","):
                names.add(part.split(" as ")[-1].strip().split(".")[0])
    return names


def solution_to_functions(oracle: str, program: str, expected_names: Iterable[str] = ()) -> str | None:
    """Rewrite ``program`` with its functions taken from the LeetCode ``oracle`` class.

    The program's top-level functions whose names match a method of ``class
    Solution`` (``getMaxRepetitions`` ~ ``get_max_repetitions``) are replaced by
    that method as a plain function under the name the tests call
    (``expected_names``), else under the program's name; the oracle's other
    methods come along under their own names, and a program name the tests do
    not use stays as an alias (module-level code may call it). A class that
    keeps state on ``self`` stays a class, and each program function calls a
    fresh instance.
    Everything else in the program (imports, helper classes) stays. Returns
    None when the oracle has no usable ``Solution`` class or shares no function
    with the program.
    """
    try:
        tree = ast.parse(oracle)
    except SyntaxError:
        return None
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Solution"]
    if not classes:
        return None
    cls = classes[0]
    methods = {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    chunks = _split_top_level(program)
    program_names = {normalise_name(name): name for name, _ in chunks if name}
    wanted = {**program_names, **{normalise_name(n): n for n in expected_names}}
    renames = {m: wanted.get(normalise_name(m), m) for m in methods}
    shared = [m for m in methods if normalise_name(m) in program_names]
    if not shared:
        return None

    others = [n for n in tree.body if n is not cls]
    class_attrs = [n for n in cls.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    class_attrs = [n for n in class_attrs if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    functions = []
    stateful = bool(class_attrs)
    for name, method in methods.items():
        fn = _SelfCalls(renames).visit(ast.parse(ast.unparse(method)).body[0])
        if not fn.args.args or fn.args.args[0].arg != "self" or any(
            isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in fn.decorator_list
        ):
            stateful = True
            break
        fn.args.args = fn.args.args[1:]
        if _uses_self_state(fn):
            stateful = True
            break
        fn.name = renames[name]
        functions.append(fn)
    aliases = [
        ast.parse(f"{program_names[normalise_name(m)]} = {renames[m]}").body[0]
        for m in shared
        if program_names[normalise_name(m)] != renames[m]
    ]
    known = set(program_names.values()) | set(renames.values()) | _top_level_names(program)
    unresolved = [n for n in expected_names if n not in known]
    entry = next(iter(methods))
    if len(unresolved) == 1 and entry in shared:
        # The tests call the entry method by a name of their own (``generate_pascals_triangle``).
        aliases.append(ast.parse(f"{unresolved[0]} = {renames[entry]}").body[0])
    if stateful:
        functions = []
        for name in shared:
            wrapper = ast.parse(
                f"def {renames[name]}(*args, **kwargs):\n    return Solution().{name}(*args, **kwargs)\n"
            ).body[0]
            functions.append(wrapper)
        new_code = "\n\n".join(ast.unparse(n) for n in [*others, cls, *functions, *aliases])
    else:
        new_code = "\n\n".join(ast.unparse(n) for n in [*others, *functions, *aliases])

    replaced = {normalise_name(m) for m in methods}
    out, inserted = [], False
    for chunk_name, text in chunks:
        if chunk_name and normalise_name(chunk_name) in replaced:
            if not inserted:
                out.append(new_code.rstrip() + "\n\n\n")
                inserted = True
            continue
        out.append(text)
    result = "".join(out)
    return add_missing_imports(result)
