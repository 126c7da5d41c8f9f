"""The import graph of gym_pdb/ and trainers/: no cycles, and layers that import only downwards.

Read with ``ast`` from the source (no module is imported), counting every
import: at module level, inside functions (the lazy ones), and
``__import__``/``importlib.import_module`` of a literal name. Imports under
``if TYPE_CHECKING:`` count for the layers (a lower layer does not name a
higher one's types either) but not for cycles: they never run. The layers,
lowest first:

0. ``sandbox``: where code runs.
1. the task model: ``gym_pdb.tasks.task`` (the ``Task`` dataclass) and
   ``gym_pdb.tasks.data_dir`` (where data is found), the repository
   task's spec and the unified diffs it carries (``gym_pdb.tasks.repository``,
   ``gym_pdb.tasks.patch``), with the empty
   ``gym_pdb/tasks/__init__.py`` that importing them runs. They import
   nothing of gym_pdb, so the verdict can judge a ``Task`` without
   depending on how tasks are loaded.
2. ``verdict``: what a test run earns.
3. ``tasks`` (loaders, sources, registry, generator, audit) and ``tools``
   (with ``actions``, their text grammar).
4. ``profiles`` and ``env``.
5. ``agents``, ``evaluation``, ``serve``, ``viewer``, ``cli``, and the
   package's ``__init__``: the front door, which registers the ids and may
   hand ``gym.make`` a local or a served env.
6. ``trainers``.

A module may import its own layer and those below, never one above.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("gym_pdb", "trainers")

#: Modules whose layer is not their package's (exact names).
EXACT = {
    "gym_pdb": 5,
    "gym_pdb.tasks": 1,
    "gym_pdb.tasks.task": 1,
    "gym_pdb.tasks.data_dir": 1,
    "gym_pdb.tasks.repository": 1,
    "gym_pdb.tasks.patch": 1,
}
#: Layer of every module in a package (or of a top-level module), by its dotted name.
PACKAGES = {
    "gym_pdb.sandbox": 0,
    "gym_pdb.verdict": 2,
    "gym_pdb.tasks": 3,
    "gym_pdb.tools": 3,
    "gym_pdb.actions": 3,
    "gym_pdb.profiles": 4,
    "gym_pdb.env": 4,
    "gym_pdb.agents": 5,
    "gym_pdb.evaluation": 5,
    "gym_pdb.serve": 5,
    "gym_pdb.viewer": 5,
    "gym_pdb.cli": 5,
    "trainers": 6,
}
LAYER_NAMES = ["sandbox", "task model", "verdict", "tasks and tools", "profiles and env", "applications", "trainers"]


def modules() -> dict[str, Path]:
    """Every module of the roots by dotted name (a package by its own name)."""
    found = {}
    for root in ROOTS:
        for path in (REPO / root).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _target(name: str, known: dict[str, Path]) -> str | None:
    """The module an import of ``name`` loads: the longest known prefix (``a.b.Name`` -> ``a.b``)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                inside.update(id(n) for n in ast.walk(stmt))
    return inside


def imports_of(module: str, path: Path, known: dict[str, Path], type_checking: bool = True) -> set[str]:
    """The known modules ``module`` imports, wherever in the file (``type_checking``: those blocks too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = set() if type_checking else _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            # ``from pkg import sub`` loads pkg.sub when it is a module, else pkg itself.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            target = _target(name, known)
            if target is not None and target != module:
                found.add(target)
    return found


@functools.cache
def import_graph(type_checking: bool = True) -> dict[str, set[str]]:
    """Module -> the modules it imports (``type_checking=False``: only the imports that run)."""
    known = modules()
    return {module: imports_of(module, path, known, type_checking) for module, path in known.items()}


def layer_of(module: str) -> int | None:
    if module in EXACT:
        return EXACT[module]
    name = module
    while name:
        if name in PACKAGES:
            return PACKAGES[name]
        name = name.rpartition(".")[0]
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "gym_pdb.tasks.registry" in graph["gym_pdb.env"]
    assert "gym_pdb.tasks.generator" in graph["gym_pdb.tasks.suites"]  # a lazy import, inside a function
    assert "trainers.env" in graph["trainers.grpo"]  # a relative import


def test_no_module_imports_itself_back() -> None:
    cycle = find_cycle(import_graph(type_checking=False))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in import_graph() if layer_of(m) is None)
    assert not unplaced, f"give these modules a layer in tests/test_layers.py: {unplaced}"


def test_layers_import_only_downwards() -> None:
    upward = []
    for module, targets in sorted(import_graph().items()):
        low = layer_of(module)
        for target in sorted(targets):
            high = layer_of(target)
            if low is not None and high is not None and high > low:
                upward.append(f"{module} ({LAYER_NAMES[low]}) imports {target} ({LAYER_NAMES[high]})")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_the_task_model_imports_nothing_of_gym_pdb() -> None:
    graph = import_graph()
    for module in ("gym_pdb.tasks", "gym_pdb.tasks.task", "gym_pdb.tasks.data_dir"):
        assert not graph[module], f"{module} imports {sorted(graph[module])}: the verdict imports it"


def test_type_checking_imports_count_for_layers_not_cycles(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gym_pdb.env import PDBEnv\n"
        "def f() -> None:\n    from gym_pdb.tasks import registry\n"
    )
    known = {"gym_pdb.env": source, "gym_pdb.tasks": source, "gym_pdb.tasks.registry": source, "mod": source}
    assert imports_of("mod", source, known) == {"gym_pdb.env", "gym_pdb.tasks.registry"}
    assert imports_of("mod", source, known, type_checking=False) == {"gym_pdb.tasks.registry"}
