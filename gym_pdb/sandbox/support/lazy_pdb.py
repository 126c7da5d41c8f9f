"""``python -m pdb ARGS`` that runs untraced through ``c`` until the workspace's code first runs.

    python lazy_pdb.py ARGS      (the same as ``python -m pdb ARGS``, run from the workspace)

A plain ``python -m pdb -m pytest`` pays for pdb's global trace function
(``sys.settrace``) on every call of pytest's configuration and collection
after ``c``, although no breakpoint can be hit there: until code compiled from
a file of the workspace first runs, no function of that file exists, so no
frame of it can start. This script runs pdb exactly as ``python -m pdb`` does
(same ``sys.argv``, ``sys.path``, ``__main__``; pdb's frames and those below
them are those of a plain run, so ``where`` and tracebacks are the same), with
one change: a ``continue`` whose breakpoints all lie in workspace files, given
while no code of the workspace has run in this process, turns tracing off,
and an audit hook turns pdb's trace function back on (``sys.settrace``) at the
``exec`` of the first code object that may be the workspace's (any file but
the interpreter's own and pseudo-files: pytest's import of ``conftest.py`` or
the test module, or the script), before that code's first frame starts. From
there on the run is traced as pdb traces it.

What is skipped cannot change what pdb shows: in ``continue`` mode pdb stops
only on a breakpoint's line, and its trace function gives no local trace to a
frame whose file holds none (bdb's ``dispatch_call``), so the frames created
untraced are the frames pdb would have left untraced; breakpoints' hit counts
only count lines of traced frames. A ``continue`` from a nested debugger
(``debug``), with a breakpoint outside the workspace or on a pseudo-file
(``<string>``), or after workspace code has run once (a restart after the end:
the test module stays imported), is pdb's own. One case is not covered:
workspace code first run by a thread other than pdb's while a ``continue`` is
deferred (Python 3.11 cannot set another thread's trace function); pytest
loads ``conftest.py`` and the test modules in its main thread.
"""

from __future__ import annotations

import bdb
import os
import runpy
import sys
import threading
import types
from typing import Any

WORKDIR = os.path.normcase(os.path.abspath(os.getcwd()))
#: Folders whose code is surely not the workspace's: the interpreter's (stdlib, site-packages) and this one.
FOREIGN = tuple(
    {
        os.path.normcase(os.path.abspath(folder)).rstrip(os.sep) + os.sep
        for folder in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(__file__))
    }
)
#: Whether code that may be the workspace's (see ``foreign``) has been executed in this process.
_workspace_ran = False
#: (debugger, thread id) of a ``continue`` running untraced, until workspace code runs.
_deferred: list[tuple[bdb.Bdb, int]] = []


def pseudo(filename: str) -> bool:
    return filename.startswith("<") and filename.endswith(">")


def in_workspace(filename: str) -> bool:
    """Whether a breakpoint's ``filename`` is a file under the workspace."""
    return not pseudo(filename) and os.path.normcase(os.path.abspath(filename)).startswith(WORKDIR + os.sep)


def foreign(filename: str) -> bool:
    """Whether code compiled from ``filename`` is surely not the workspace's (any other arms pdb's tracing).

    A pseudo-file (``<frozen ...>``, ``<string>``) or a file of the
    interpreter's: code of any other file, say a workspace file reached
    through a symbolic link, counts as the workspace's.
    """
    if pseudo(filename):
        return True
    path = os.path.normcase(os.path.abspath(filename))
    return path.startswith(FOREIGN) and not path.startswith(WORKDIR + os.sep)


def audit(event: str, args: tuple[Any, ...]) -> None:
    """At the first ``exec`` of code that may be the workspace's, pdb's tracing back on for the frame it starts."""
    global _workspace_ran
    if event != "exec" or _workspace_ran or not args or not isinstance(args[0], types.CodeType):
        return
    if foreign(args[0].co_filename):
        return
    _workspace_ran = True
    if _deferred:
        debugger, thread = _deferred.pop()
        continuing = debugger.stopframe is debugger.botframe and debugger.stoplineno == -1
        if thread == threading.get_ident() and continuing and not debugger.quitting:
            sys.settrace(debugger.trace_dispatch)


def nested(debugger: bdb.Bdb) -> bool:
    """Whether more than one debugger runs on this stack (pdb's ``debug`` command)."""
    runs, frame = 0, sys._getframe()
    while frame is not None:
        runs += frame.f_code is bdb.Bdb.run.__code__
        frame = frame.f_back  # type: ignore[assignment]
    return runs != 1


original_set_continue = bdb.Bdb.set_continue
original_reset = bdb.Bdb.reset


def reset(self: bdb.Bdb) -> None:
    """A run's start (and pdb's restart after the program's end): nothing deferred is left."""
    _deferred.clear()
    original_reset(self)


def set_continue(self: bdb.Bdb) -> None:
    _deferred.clear()
    original_set_continue(self)
    if not self.breaks or _workspace_ran or nested(self):
        return
    if (WORKDIR + os.sep).startswith(FOREIGN) or not all(map(in_workspace, self.breaks)):
        return
    _deferred.append((self, threading.get_ident()))
    sys.settrace(None)


def main() -> None:
    """Run pdb's ``__main__`` over ``sys.argv[1:]`` as ``python -m pdb`` would."""
    if not hasattr(bdb.Bdb, "start_trace"):  # Python >= 3.14's bdb may trace by sys.monitoring: left as it is
        bdb.Bdb.set_continue = set_continue  # type: ignore[method-assign]
        bdb.Bdb.reset = reset  # type: ignore[method-assign]
        sys.addaudithook(audit)
    if not os.environ.get("PYTHONSAFEPATH"):
        sys.path[0] = os.getcwd()  # ``-m``: the working folder first, not this script's
    sys.argv = ["-m", *sys.argv[1:]]
    runpy.run_module("pdb", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
