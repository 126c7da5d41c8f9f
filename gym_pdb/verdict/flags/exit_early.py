"""The exit-early check: a process that leaves before pytest reports its failures."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .kinds import EXIT_EARLY
from .program import Program
from .syntax import is_main_guard

#: Leaving the process before pytest reports, or becoming another program (``/bin/true``).
EXITS = {"os._exit", "posix._exit", "os.execv", "os.execve", "os.execl", "os.execle", "os.execlp", "os.execlpe",
         "os.execvp", "os.execvpe"}  # fmt: skip


def exits(program: Program) -> Iterator[str]:
    """``os._exit`` and ``exec``: the process is gone before pytest writes a failure (``sys.exit`` is a failure)."""
    main_guarded = {id(n) for stmt in program.tree.body if is_main_guard(stmt) for n in ast.walk(stmt)}
    for node in program.nodes:
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in main_guarded:
            q = program.qualify(node)
            if q in EXITS:
                yield program.flag(EXIT_EARLY, node, f"calls {q}: the process ends before pytest reports")
