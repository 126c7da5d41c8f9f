"""The expert's ``trace`` mode: where the pdb mode stops at a breakpoint, it reads a function-level trace.

It traces the first failing test, showing only the calls of the function that
holds the first buggy line, then expands the first of those calls to line
level (``trace TEST call=N``), and goes on to the fix as the pdb mode does.
So SFT data with traces can be made without a teacher model.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Generator

from gym_pdb.agents.base import Turn

#: A call of the trace: ``#12 solution.py:Inventory.remove(...)`` (indented by its depth).
TRACE_CALL = re.compile(r"^\s*#(\d+) ([^\s:]+):([\w.<>]+)\(", re.M)


def enclosing_function(source: str, line: int) -> str | None:
    """The qualified name (``Class.method``, ``outer.<locals>.inner``) of the innermost function holding ``line``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    best: str | None = None

    def visit(body: list[ast.stmt], prefix: str, in_function: bool) -> None:
        nonlocal best
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child], prefix, in_function)
                continue
            if not node.lineno <= line <= (node.end_lineno or node.lineno):
                continue
            name = prefix + node.name
            if isinstance(node, ast.ClassDef):
                visit(node.body, name + ".", in_function)
            else:
                best = name
                visit(node.body, name + ".<locals>.", True)

    visit(tree.body, "", False)
    return best


def first_call(observation: str, path: str, function: str) -> int | None:
    """The number of the first call of ``path``'s ``function`` in a trace, or None."""
    for number, where, name in TRACE_CALL.findall(observation):
        if where == path and name == function:
            return int(number)
    return None


def trace_steps(call: Callable[..., Turn], path: str, line: int, test: str, source: str) -> Generator[Turn, str, None]:
    """Trace ``test``'s calls of the function holding ``line`` of ``path``, then expand the first one."""
    function = enclosing_function(source, line)
    if function is None:
        return
    observation = yield call(
        f"Line {line} of {path} is in {function}: let me trace {test} and see what {function} is called with.",
        "trace", target=test, function=function,
    )  # fmt: skip
    number = first_call(observation, path, function)
    if number is not None:
        yield call(f"Call #{number} line by line, to see where it goes wrong.", "trace", target=test, call=number)
