"""The test-tampering check: changing what runs the tests, or what the tests themselves use."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from .kinds import TAMPERING
from .literals import literal
from .program import Program
from .syntax import BUILTIN_NAMES, is_main_guard, is_str, module_name

#: Reaching into pytest or the interpreter to change what the tests see or report.
INTERNALS = {"gc.get_objects", "gc.get_referrers", "sys.settrace", "sys.setprofile", "threading.settrace",
             "threading.setprofile", "sys.monitoring", "unittest.SkipTest", "site.getsitepackages",
             "site.getusersitepackages", "site.addsitedir"}  # fmt: skip
#: Files that configure pytest or the interpreter: naming one is enough.
CONFIG_FILES = {"conftest.py", "pytest.ini", "sitecustomize.py", "usercustomize.py"}


def tampering(program: Program) -> Iterator[str]:
    """Changing what runs the tests: pytest and its config, tracing, builtins and modules the tests use."""
    modules = {a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
               for n in program.nodes if isinstance(n, ast.Import) for a in n.names}  # fmt: skip
    for node in program.nodes:
        what = None
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            what = next((f"imports {m}" for m in names if m.split(".")[0] in ("pytest", "_pytest")), None)
        elif isinstance(node, ast.Attribute) and node.attr == "pluginmanager":
            what = "reaches pytest's plugin manager"
        elif isinstance(node, (ast.Name, ast.Attribute, ast.Call)) and program.qualify(node) in INTERNALS:
            what = f"uses {program.qualify(node)}"
        elif program.is_text(node):
            name = node.value.strip().rsplit("/", 1)[-1]
            if name in CONFIG_FILES or node.value.startswith("PYTEST_") or "gym-pdb-results" in node.value:
                what = f"names {node.value!r}"
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            what = _patch(program, node, modules)
        elif isinstance(node, ast.Call) and program.qualify(node.func) in ("setattr", "delattr") and len(node.args) >= 2:
            what = _patch_target(program, node.args[0], node.args[1].value if is_str(node.args[1]) else "", modules)
        if what:
            yield program.flag(TAMPERING, node, what)
    for stmt in program.tree.body:
        hooks = [n for n in _top_names(stmt) if n.startswith("pytest_")]
        if hooks:
            yield program.flag(TAMPERING, stmt, f"defines {hooks[0]}, which pytest reads in a test module")
    yield from _shadowing(program)


def _patch(program: Program, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete, modules: Mapping[str, str]) -> str | None:
    targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
    for target in targets:
        if isinstance(target, ast.Attribute):
            what = _patch_target(program, target.value, target.attr, modules)
        elif isinstance(target, ast.Subscript):
            q = program.qualify(target.value)
            what = f"replaces an entry of {q}" if q in ("sys.modules", "__builtins__", "builtins.__dict__") else None
        else:
            what = None
        if what:
            return what
    return None


def _patch_target(program: Program, obj: ast.expr, attr: str, modules: Mapping[str, str]) -> str | None:
    """Setting an attribute of a module: always for builtins, else when the tests use that attribute."""
    if not isinstance(obj, ast.Name):
        return None
    module = "builtins" if obj.id == "__builtins__" else modules.get(obj.id)
    if module == "builtins" or (module and f"{module}.{attr}" in program.facts.refs):
        return f"patches {module}.{attr}"
    return None


def _shadowing(program: Program) -> Iterator[str]:
    """Names a test gets from ``from program import *`` that replace a builtin or an import it uses."""
    module = module_name(program.path)
    uses = program.facts.star_uses.get(module, set())
    shadowed = program.facts.star_shadowed.get(module, set())
    if not uses and not shadowed:
        return
    exported = _exported(program.tree)
    for stmt in _top_level(program.tree.body):
        for name in _top_names(stmt):
            if (name not in exported) if exported is not None else name.startswith("_"):
                continue
            if name in BUILTIN_NAMES and name in uses:
                what = f"defines {name}, a builtin the tests apply to results"
            elif name in shadowed:
                what = f"defines {name}, which replaces the tests' own import of it"
            else:
                continue
            yield program.flag(TAMPERING, stmt, f"{what}, and hands it to them through `from {module} import *`")


def _top_names(stmt: ast.stmt) -> list[str]:
    """The names a module-level statement binds by definition or assignment (not by import)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For)):
        targets = [stmt.target]
    else:
        return []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The module's statements, through the ifs, trys and withs that run at import."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, ast.With)) and not is_main_guard(stmt):
            for block in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(stmt, block, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _top_level(handler.body)


def _exported(tree: ast.Module) -> set[str] | None:
    """The names in ``__all__``, when the module defines it as a literal."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in stmt.targets):
            value = literal(stmt.value)
            if isinstance(value, tuple) and value[0] == "seq":
                return {v for v in value[1] if isinstance(v, str)}
    return None
