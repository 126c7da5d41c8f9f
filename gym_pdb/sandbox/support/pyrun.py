"""``python ARGS`` in a process that is already running: what the interpreter would do at start and exit.

A child of the zygote (``forkserver.py``) did not start as ``python ARGS``, so
what the program can see of its start is made here: ``sys.argv``,
``sys.path``, the environment, the standard streams, a fresh random state, and
at its end the interpreter's exit code, atexit handlers and flushed streams.
"""

from __future__ import annotations

import atexit
import gc
import io
import os
import runpy
import sys
import threading
import traceback
import types
from typing import Callable, Mapping, Sequence

BASE_ENV = dict(os.environ)  # what the sandbox gives every process; a request's env goes on top
#: The warm interpreter's own modules: imported once at its start (Python caches their bytecode
#: then), never run as scripts.
WARM_MODULES = frozenset({"zygote.py", "warmup.py", "forkserver.py", "channels.py", "prepared_host.py", "pyrun.py"})

#: ``{path: (stat key, code)}`` of the support scripts (``compile_support_scripts``).
Compiled = Mapping[str, tuple[tuple[int, int, int], types.CodeType]]


def set_environ(env: Mapping[str, str]) -> None:
    os.environ.clear()
    os.environ.update(BASE_ENV)
    os.environ.update(env)


def standard_streams() -> None:
    """New sys.stdin, stdout and stderr over fds 0, 1 and 2."""
    # typeshed calls sys.__stdin__ and the others final; the program's must be these all the same.
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), "utf-8")  # type: ignore[misc]
    sys.stdout = sys.__stdout__ = _output(1, "strict")  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = _output(2, "backslashreplace")  # type: ignore[misc]


def _output(fd: int, errors: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), "utf-8", errors, write_through=True)


def write(fd: int, data: str | bytes) -> None:
    """Write all of ``data`` to ``fd`` if it is still open: whoever reads it may be gone."""
    view = memoryview(data.encode() if isinstance(data, str) else data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass


def reseed() -> None:
    """Fresh random state from the OS, as a new interpreter gets (``random`` reseeds itself at fork)."""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def compile_support_scripts(folder: str) -> dict[str, tuple[tuple[int, int, int], types.CodeType]]:
    """Compile the support scripts once: ``{path: (stat key, code)}`` for running them as ``__main__``.

    Each pdb start runs ``pdb_driver.py`` as a script, which imports it as a
    module: without this, two compiles of it per start. Where this process
    may write the folder (it is root's, or the sandbox has no uid), their
    bytecode also goes into its ``__pycache__`` for the imports.
    """
    import py_compile

    compiled = {}
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not name.endswith(".py") or name in WARM_MODULES:
            continue
        try:
            with open(path, "rb") as f:
                compiled[path] = (stat_key(path), compile(f.read(), path, "exec"))
        except (OSError, SyntaxError, ValueError):
            continue
        if os.access(folder, os.W_OK):
            py_compile.compile(path, doraise=False, quiet=2)
    return compiled


def pythonpath() -> list[str]:
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def _unsafe_path(folder: str) -> list[str]:
    """``[folder]``, which Python puts first on ``sys.path``, unless ``PYTHONSAFEPATH`` says not to."""
    return [] if os.environ.get("PYTHONSAFEPATH") else [folder]


def stat_key(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _run_as_main(code: types.CodeType, script: str) -> None:
    """What ``runpy.run_path`` does for a source file, with its code already compiled."""
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=script, __cached__=None, __loader__=None, __package__="", __spec__=None)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def run_program(argv: Sequence[str], base_path: Sequence[str], compiled: Compiled | None = None) -> int:
    """Run ``python ARGV`` in this process, as the interpreter would; returns the exit code.

    ``compiled``: scripts' code compiled already (``compile_support_scripts``).
    """
    path = pythonpath()
    run: Callable[[], object]
    if argv[0] == "-m":
        sys.path[:] = [*_unsafe_path(os.getcwd()), *path, *base_path]
        sys.argv = ["-m", *argv[2:]]
        module = argv[1]
        run = lambda: runpy.run_module(module, run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        script, real = argv[0], os.path.realpath(argv[0])
        sys.path[:] = [*_unsafe_path(os.path.dirname(real)), *path, *base_path]
        sys.argv = list(argv)
        key, code = (compiled or {}).get(real, (None, None))
        if code is not None and stat_key(script) == key:
            run = lambda: _run_as_main(code, script)  # noqa: E731
        else:
            run = lambda: runpy.run_path(script, run_name="__main__")  # noqa: E731
    gc.enable()
    try:
        run()
        status = 0
    except SystemExit as exc:
        status = exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        status = 1
    return finish(status)


def finish(code: int) -> int:
    """What the interpreter does before it exits (threads joined, atexit, streams flushed); returns ``code``."""
    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    return code


def exit_code(value: object) -> int:
    """The exit code of ``sys.exit(value)``; a value that is not a number is printed, as Python does."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    try:
        sys.stderr.write(str(value) + "\n")
    except BaseException:
        pass
    return 1
