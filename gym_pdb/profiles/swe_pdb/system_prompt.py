"""The system prompt of the `swe-pdb` profile: the one SWE-PDB's debug or rewrite agent built.

SWE-PDB's agent wrote a JSON object (``BaseAgent._default_system_prompt``):
its task text, the repository's tree (``Workspace.display_files``), the
shortcut features its run config switched on. Those methods are run here from
the release's source: their statements (assignments, ``if``, ``return``) are
interpreted over stand-ins for the agent, its env and workspace, whose values
are gym-pdb's (the suite's run config, the offered tools, the task's visible
files under the sandbox's working folder). So the texts and the choices stay
SWE-PDB's and nothing of its code is imported.

Two differences, both deliberate: the prompt is built once, before the first
turn (SWE-PDB rebuilt it each step, which changed it only under
``show_current_breakpoints`` or ``auto_eval_on_rewrite``, which none of its run
configs set: those are refused here); and the tree is not trimmed to 10% of
the model's context, as SWE-PDB did not trim it when its LLM had no known
context length (its suites' trees are a few lines).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Sequence
from typing import Any

from gym_pdb.profiles.swe_pdb.release import NotConstant, class_constants, constant, run_config
from gym_pdb.profiles.swe_pdb.templates import evaluate, function_node
from gym_pdb.profiles.swe_pdb.tools import tree
from gym_pdb.tasks.task import Task

#: SWE-PDB's agents: where their class (and its ``system_prompt``) is defined.
AGENTS = {
    "debug_agent": ("agents/debug_agent.py", "DebugAgent"),
    "rewrite_agent": ("agents/rewrite_agent.py", "RewriteAgent"),
}
BASE_AGENT, WORKSPACE = ("agents/base_agent.py", "BaseAgent"), ("gym/workspace.py", "Workspace")


def agent_kind(agent: str, tools: Sequence[str]) -> str:
    """SWE-PDB's agent for gym-pdb's ``agent``: the one of that name, else the debug agent where pdb is offered."""
    if agent in AGENTS:
        return agent
    return "debug_agent" if "pdb" in tools else "rewrite_agent"


def system_prompt(task: Task, agent: str, workdir: str, tools: Sequence[str]) -> str:
    """The system message SWE-PDB's ``agent`` (any other name: see :func:`agent_kind`) built for ``task``.

    ``workdir``: the working folder the tree names; ``tools``: those offered (SWE-PDB's pdb features need pdb).
    """
    kind = agent_kind(agent, tools)
    env_kwargs = run_config(task.suite)
    for unsupported in ("show_current_breakpoints", "auto_eval_on_rewrite"):
        if env_kwargs.get(unsupported):
            raise NotImplementedError(f"{unsupported}: SWE-PDB rebuilt that system prompt at every step")
    paths = sorted(p for p in task.files if task.is_visible(p))

    def directory_tree(root: str | None = None, max_depth: int = 1) -> str:
        if max_depth != 1:
            raise NotImplementedError(f"dir_tree_depth {max_depth}: the profile shows SWE-PDB's tree one level deep")
        return tree(workdir, ".", paths)

    workspace = _Stand(WORKSPACE, working_dir=workdir.rstrip("/"), directory_tree=directory_tree)
    dir_tree = workspace.display_files(env_kwargs.get("dir_tree_depth", 1))
    agent_self = _Stand(
        BASE_AGENT,
        config={"env_kwargs": env_kwargs},
        env=_Stand(None, has_tool=lambda name: name in tools),
        system_prompt=class_constants(*AGENTS[kind])["system_prompt"],
        trim_message=lambda message, *args, **kwargs: message,  # the model's context length is not known here
    )
    return str(agent_self._default_system_prompt(_Stand(None, dir_tree=dir_tree)))


class _Stand:
    """A stand-in for one of SWE-PDB's objects: the attributes given, and the methods of a release class, run."""

    def __init__(self, release_class: tuple[str, str] | None, **attributes: Any) -> None:
        self.__dict__.update(attributes, _release_class=release_class)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        where = self.__dict__.get("_release_class")
        if name.startswith("__") or where is None:
            raise AttributeError(name)
        try:
            node = function_node(where[0], f"{where[1]}.{name}")
        except StopIteration:
            raise AttributeError(name) from None
        assert isinstance(node, ast.FunctionDef)
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
        return lambda *args, **kwargs: run(node, args if static else (self, *args), kwargs)


def run(function: ast.FunctionDef, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """What the release's ``function`` returns for ``args`` and ``kwargs`` (missing ones take their defaults)."""
    params = [a.arg for a in function.args.args]
    defaults = dict(zip(params[len(params) - len(function.args.defaults) :], function.args.defaults, strict=True))
    values: dict[str, Any] = {"json": json}  # to_pretty_json's module
    for i, name in enumerate(params):
        values[name] = args[i] if i < len(args) else kwargs[name] if name in kwargs else constant(defaults[name], {})
    return _statements(function.body, values)[1]


def _statements(body: list[ast.stmt], values: dict[str, Any]) -> tuple[bool, Any]:
    """Run ``body`` (assignments, ``+=``, ``if``, calls, ``return``): whether it returned, and what."""
    for stmt in body:
        if isinstance(stmt, ast.Return):
            return True, evaluate(stmt.value, values) if stmt.value is not None else None
        if isinstance(stmt, ast.If):
            returned = _statements(stmt.body if evaluate(stmt.test, values) else stmt.orelse, values)
            if returned[0]:
                return returned
        elif isinstance(stmt, ast.Expr):
            evaluate(stmt.value, values)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            _assign(stmt.targets[0], evaluate(stmt.value, values), values)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and isinstance(stmt.target, ast.Name):
            values[stmt.target.id] = values[stmt.target.id] + evaluate(stmt.value, values)
        else:
            raise NotConstant(f"a {type(stmt).__name__} statement at line {stmt.lineno}")
    return False, None


def _assign(target: ast.expr, value: Any, values: dict[str, Any]) -> None:
    if isinstance(target, ast.Name):
        values[target.id] = value
    elif isinstance(target, ast.Subscript):
        evaluate(target.value, values)[evaluate(target.slice, values)] = value
    else:
        raise NotConstant(f"an assignment to {ast.dump(target)[:60]}")
