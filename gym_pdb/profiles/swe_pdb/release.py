"""Where SWE-PDB's agent framework is, and its texts read from its source with ``ast``.

The `swe-pdb` profile shows the agent SWE-PDB's own texts (tool descriptions,
prompts, messages). They are not copied into gym-pdb: they are read, at run
time, from the release that ``gym-pdb download`` keeps (its
``swe-pdb-agent/debug_gym`` and ``scripts`` folders), by evaluating the
constant expressions of its modules (string literals, ``+`` and ``"\\n".join``
of them, lists and dicts of them), never by importing them.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from gym_pdb.tasks.data_dir import DataNotFoundError, user_cache_dir

#: The environment variable naming a ``swe-pdb-agent`` folder (tests point it at ../shared/reference).
RELEASE_ENV = "GYM_PDB_SWE_PDB_AGENT"


def find_release() -> Path:
    """The ``swe-pdb-agent`` folder: ``$GYM_PDB_SWE_PDB_AGENT``, else the user cache.

    Raises:
        DataNotFoundError: neither holds ``debug_gym/gym/tools``; the message says what to run.
    """
    candidates = [Path(p).expanduser() for p in (os.environ.get(RELEASE_ENV),) if p]
    candidates.append(user_cache_dir() / "swe-pdb-agent")
    for path in candidates:
        if (path / "debug_gym" / "gym" / "tools").is_dir():
            return path
    raise DataNotFoundError(
        "The swe-pdb profile reads SWE-PDB's texts from its release, which is not here. Looked at: "
        + ", ".join(map(str, candidates))
        + f". Run `gym-pdb download swe-pdb-agent`, or set {RELEASE_ENV} to a swe-pdb-agent folder."
    )


class NotConstant(ValueError):
    """An expression of the release that is not built from constants alone."""


def constant(node: ast.AST, names: dict[str, Any]) -> Any:
    """The value of a constant expression: literals, names bound to them, ``+``, ``str.join``, containers."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.JoinedStr):
        raise NotConstant("an f-string")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return constant(node.left, names) + constant(node.right, names)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [constant(e, names) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {constant(k, names): constant(v, names) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and len(node.args) == 1
    ):
        return constant(node.func.value, names).join(constant(node.args[0], names))
    raise NotConstant(ast.dump(node)[:80])


@lru_cache(maxsize=None)
def class_constants(relpath: str, class_name: str, release: str | None = None) -> dict[str, Any]:
    """The constant class attributes of ``class_name`` in ``debug_gym/<relpath>`` (evaluated in order)."""
    root = Path(release) if release else find_release()
    tree = ast.parse((root / "debug_gym" / relpath).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            values: dict[str, Any] = {}
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                    target, value = stmt.targets[0], stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    target, value = stmt.target, stmt.value
                else:
                    continue
                if isinstance(target, ast.Name):
                    try:
                        values[target.id] = constant(value, values)
                    except NotConstant:
                        continue
            return values
    raise LookupError(f"no class {class_name} in debug_gym/{relpath}")


#: Each suite's run config in the release's ``scripts/`` (by the suite's data folder); others: DebugBench's.
RUN_CONFIGS = {
    "mini_nightmare": "config_mini_nightmare.yaml",
    "debugbench": "config_debug_bench.yaml",
    "humaneval_buggy": "config_humaneval_buggy.yaml",
    "mbpp_buggy": "config_mbpp_buggy.yaml",
    "canitedit": "config_edit.yaml",
    "syn-debug": "config_syndebug.yaml",
}


@lru_cache(maxsize=None)
def run_config(suite: str) -> dict[str, Any]:
    """The env settings (``env_kwargs``) SWE-PDB ran ``suite`` with: ``auto_list``, ``run_timeout``, ``entrypoint``..."""
    import yaml

    name = RUN_CONFIGS.get(suite, RUN_CONFIGS["debugbench"])
    config = yaml.safe_load((find_release() / "scripts" / name).read_text(encoding="utf-8"))
    return dict(config["base"]["env_kwargs"])


@lru_cache(maxsize=1)
def text_chars() -> frozenset[str]:
    """The characters beyond printable ASCII in the string literals of the release's tools (its emoji)."""
    import string

    found: set[str] = set()
    for path in sorted((find_release() / "debug_gym" / "gym" / "tools").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(c for c in node.value if c not in string.printable)
    return frozenset(found)
