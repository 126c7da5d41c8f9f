"""pdb for gym-pdb, run inside the sandbox (stdlib, and pytest for that runner).

    python pdb_driver.py python FILE
    python pdb_driver.py pytest FILE[::TEST]
    python pdb_driver.py --standby [pytest [TARGET]]   (then one JSON line: runner, target, sentinel, ...)

The prompt is a per-session sentinel preceded by a JSON line with the state
(current frame, a listing around it, breakpoints), so that the host reads one
command's output, frame and listing in a single round trip and never guesses
when pdb is done. Breakpoints to restore come in GYM_PDB_BREAKPOINTS (JSON).
The program's stdin is /dev/null: pdb's commands cannot be eaten by input().
SIGUSR1 dumps every thread's stack (faulthandler), so the host can say where
a program that hangs was stuck before it stops it.

A standby for ``pytest TARGET`` prepares the session before its settings
come: pytest's configuration and session start (most of a start's cost) run
at once, and the session waits before collection, where the program's code
is first read. If a file pytest's configuration comes from (``pytest.ini``,
``pyproject.toml``...) changed in the meantime, it prints STALE and exits:
the host starts a fresh one.
"""

from __future__ import annotations

import bdb
import faulthandler
import io
import json
import linecache
import os
import pdb
import signal
import sys
import traceback
from types import FrameType
from typing import Any

SENTINEL = "(Pdb) "
STATE_MARK = "\x1estate:"
BREAKPOINTS: list[dict[str, Any]] = []
CONTEXT = 3
WORKDIR = os.getcwd()
# pdb's own streams (text over duplicates of fds 0/1), set by ``configure`` before any debugger exists.
CMD_IN: Any = None
CMD_OUT: Any = None
STALE = "\x1egym-pdb-stale-standby"
# pytest plugins that only serve options a debug session never passes: the same as the eval's
# (gym_pdb.sandbox.support.UNUSED_PLUGINS), so that the zygote's prebuilt pytest config serves both.
UNUSED_PLUGINS = [arg for name in ("cacheprovider", "junitxml", "pastebin", "stepwise", "setuponly", "setupplan") for arg in ("-p", "no:" + name)]
CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")

_restored: list[bool] = []


def configure(argv: list[str]) -> tuple[str, str]:
    """Read the session's settings; returns (runner, target).

    From the command line and the environment, or, with ``--standby``, from
    the first line of input (JSON): a standby driver has imported pdb and
    pytest already and waits, so that a restart costs only the program's start.
    A prepared standby (``--standby pytest TARGET``) reads it later (see ``Prepared``).
    """
    global CMD_IN, CMD_OUT
    CMD_IN, CMD_OUT = _open_private_streams()
    if argv[1] == "--standby":
        if argv[2:3] == ["pytest"]:
            try:
                import pytest  # noqa: F401
            except ImportError:
                pass
        if argv[2:3] == ["pytest"] and len(argv) > 3:
            return "pytest", argv[3]
        config = json.loads(CMD_IN.readline() or "null")
        if not config:
            sys.exit(0)
    else:
        config = {
            "runner": argv[1],
            "target": argv[2],
            "sentinel": os.environ.pop("GYM_PDB_SENTINEL", SENTINEL),
            "state_mark": os.environ.pop("GYM_PDB_STATE_MARK", STATE_MARK),
            "breakpoints": json.loads(os.environ.pop("GYM_PDB_BREAKPOINTS", "") or "[]"),
            "context": int(os.environ.pop("GYM_PDB_CONTEXT", CONTEXT)),
        }
    apply_settings(config)
    return config["runner"], config["target"]


def apply_settings(config: dict[str, Any]) -> None:
    global SENTINEL, STATE_MARK, BREAKPOINTS, CONTEXT
    SENTINEL = config.get("sentinel", SENTINEL)
    STATE_MARK = config.get("state_mark", STATE_MARK)
    BREAKPOINTS = config.get("breakpoints", [])
    CONTEXT = int(config.get("context", CONTEXT))


def config_stamp(target: str) -> list[tuple[str, str, int, int, int]]:
    """What pytest's configuration for ``target`` is read from, in the workspace: (path, mtime, size) each."""
    stamp = []
    folder = os.path.dirname(os.path.abspath(target.partition("::")[0]))
    while True:
        for name in CONFIG_FILES:
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            stamp.append((folder, name, st.st_mtime_ns, st.st_size, st.st_ino))
        if folder == WORKDIR or not folder.startswith(WORKDIR + os.sep):
            return stamp
        folder = os.path.dirname(folder)


class Prepared:
    """Holds a prepared pytest session before collection until the session's settings arrive."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.stamp = config_stamp(target)

    def pytest_collection(self, session: object) -> None:
        config = json.loads(CMD_IN.readline() or "null")
        if not config:
            os._exit(0)
        if config.get("target") != self.target or config_stamp(self.target) != self.stamp:
            CMD_OUT.write(STALE + "\n")
            CMD_OUT.flush()
            os._exit(3)
        apply_settings(config)


def _open_private_streams() -> tuple[io.TextIOWrapper, io.TextIOWrapper]:
    """pdb talks over duplicates of fds 0/1; the program gets /dev/null as stdin.

    pdb's output is buffered and leaves at each prompt (``cmd`` flushes it) and
    whenever the program runs on (``SentinelPdb.interaction``, ``bp_commands``):
    one write per reply, so the host wakes once per command, and the program's
    own output (unbuffered) never overtakes pdb's.
    """
    cmd_in = io.TextIOWrapper(os.fdopen(os.dup(0), "rb", buffering=0), encoding="utf-8", errors="replace")
    cmd_out = io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), encoding="utf-8", errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)
    return cmd_in, cmd_out


def relpath(path: str) -> str:
    if not path:
        return path
    path = os.path.abspath(path)
    if path.startswith(WORKDIR + os.sep):
        return path[len(WORKDIR) + 1 :]
    return path


class SentinelPdb(pdb.Pdb):
    """A Pdb whose prompt carries the state and ends with the session's sentinel."""

    _gym_quit = False
    _gym_post_mortem = False
    # The last state sent and what it was made from: most commands (``p``, ``b``...) leave it as it was.
    _gym_state_key: Any = None
    _gym_state_json = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stdin", CMD_IN)
        kwargs.setdefault("stdout", CMD_OUT)
        kwargs["readrc"] = False
        super().__init__(*args, **kwargs)
        self.use_rawinput = False
        if not _restored:
            _restored.append(True)
            self._restore_breakpoints()

    @property
    def prompt(self) -> str:
        key = self._state_key()
        if key != self._gym_state_key:
            self._gym_state_key = key
            self._gym_state_json = json.dumps(self._state())
        return "\n" + STATE_MARK + self._gym_state_json + "\n" + SENTINEL

    @prompt.setter
    def prompt(self, value: str) -> None:
        pass

    def do_quit(self, arg: str) -> bool | None:
        self._gym_quit = True
        return super().do_quit(arg)

    do_q = do_exit = do_quit

    def _restore_breakpoints(self) -> None:
        for bp in BREAKPOINTS:
            filename = os.path.join(WORKDIR, bp["file"])
            line = int(bp["line"])
            err: str | None
            if not os.path.isfile(filename):
                err = "no such file"
            elif not self.checkline(filename, line):
                err = "not a line with code"
            else:
                err = self.set_break(filename, line, bool(bp.get("temporary")), bp.get("cond") or None)
            if err:
                self.message("Could not restore breakpoint at %s:%s: %s" % (bp["file"], bp["line"], err))

    def interaction(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().interaction(*args, **kwargs)
        finally:
            CMD_OUT.flush()

    def bp_commands(self, frame: FrameType) -> Any:
        try:
            return super().bp_commands(frame)
        finally:
            CMD_OUT.flush()

    def do_interact(self, arg: str) -> None:
        self.error("interact is not available here: evaluate expressions with p, pp or ! instead")

    def _state_key(self) -> tuple[Any, ...]:
        """What ``_state`` is made of, cheap to compare: the frame's code and line, the file's lines, the breakpoints.

        The code object and linecache's entry are held, so an equal key is the same code and the same lines.
        """
        breakpoints = tuple(
            (bp.number, bp.file, bp.line, bp.cond, bp.enabled, bp.temporary, bp.hits)
            for bp in bdb.Breakpoint.bpbynumber
            if bp is not None
        )
        frame: FrameType | None = getattr(self, "curframe", None)
        if frame is None:
            return (None, breakpoints)
        lineno = frame.f_lineno
        if getattr(self, "curindex", None) is not None and self.stack:
            lineno = self.stack[self.curindex][1]
        code = frame.f_code
        lines = linecache.cache.get(self.canonic(code.co_filename))
        return (code, code.co_filename, lineno, lines, self._gym_post_mortem, breakpoints)

    def _state(self) -> dict[str, Any]:
        frame: FrameType | None = getattr(self, "curframe", None)
        state: dict[str, Any] = {"breakpoints": self._breakpoints(), "frame": None}
        if frame is None:
            return state
        filename = self.canonic(frame.f_code.co_filename)
        lineno = frame.f_lineno
        if getattr(self, "curindex", None) is not None and self.stack:
            lineno = self.stack[self.curindex][1]
        state["frame"] = {
            "file": relpath(filename),
            "line": lineno,
            "function": frame.f_code.co_name,
            "listing": self._listing(filename, lineno, frame.f_globals),
            "post_mortem": bool(getattr(self, "_gym_post_mortem", False)),
        }
        return state

    def _listing(self, filename: str, lineno: int, module_globals: dict[str, Any]) -> str:
        breaks = set(self.get_file_breaks(filename))
        lines = []
        for n in range(max(1, lineno - CONTEXT), lineno + CONTEXT + 1):
            text = linecache.getline(filename, n, module_globals)
            if not text:
                break
            mark = ("B" if n in breaks else " ") + ("->" if n == lineno else "  ")
            lines.append("%4d %s %s" % (n, mark, text.rstrip("\n")))
        return "\n".join(lines)

    @staticmethod
    def _breakpoints() -> list[dict[str, Any]]:
        out = []
        for bp in bdb.Breakpoint.bpbynumber:
            if bp is None:
                continue
            out.append(
                {
                    "number": bp.number,
                    "file": relpath(bp.file),
                    "line": bp.line,
                    "cond": bp.cond,
                    "enabled": bp.enabled,
                    "temporary": bp.temporary,
                    "hits": bp.hits,
                }
            )
        return out


def run_python(target: str) -> str:
    debugger = SentinelPdb()
    sys.path[0] = os.path.dirname(os.path.abspath(target))
    try:
        if hasattr(debugger, "_runscript"):
            debugger._runscript(target)
        else:  # Python >= 3.12
            debugger._run(pdb._ScriptTarget(target))  # type: ignore[attr-defined]
        if getattr(debugger, "_gym_quit", False):
            return "Quit."
        return "The program finished."
    except SystemExit as exc:
        return "The program exited via sys.exit(). Exit status: %s" % (exc.code,)
    except BaseException as exc:
        if isinstance(exc, bdb.BdbQuit):
            return "Quit."
        traceback.print_exc(file=CMD_OUT)
        CMD_OUT.write("Uncaught exception. Entering post mortem debugging\n")
        debugger._gym_post_mortem = True
        debugger.reset()
        try:
            debugger.interaction(None, exc.__traceback__)
        except bdb.BdbQuit:
            pass
        return "Post mortem debugger finished."


def run_pytest(target: str, prepared: bool = False) -> str:
    import pytest

    sys.path[0] = WORKDIR
    code = pytest.main(
        [
            "-q",
            "-s",
            "--tb=short",
            *UNUSED_PLUGINS,
            # An episode's conftest.py is no part of its task; a user's project (gym-pdb mcp) needs its own.
            *([] if os.environ.get("GYM_PDB_CONFTEST") == "1" else ["--noconftest"]),
            "--rootdir",
            WORKDIR,
            "--trace",
            "--pdbcls=pdb_driver:SentinelPdb",
            target,
        ],
        plugins=[Prepared(target)] if prepared else None,
    )
    return "The tests finished (pytest exit code %s)." % (int(code),)


def main() -> int:
    standby = sys.argv[1:2] == ["--standby"]
    if not standby and (len(sys.argv) != 3 or sys.argv[1] not in ("python", "pytest")):
        sys.stderr.write(__doc__)
        return 2
    runner, target = configure(sys.argv)
    faulthandler.register(signal.SIGUSR1, file=CMD_OUT, all_threads=True)
    prepared = standby and len(sys.argv) > 3
    message = run_python(target) if runner == "python" else run_pytest(target, prepared)
    CMD_OUT.write("\n" + message + "\n")
    CMD_OUT.flush()
    return 0


if __name__ == "__main__":
    # Run from a module of its own: pdb's script runner empties __main__'s globals.
    import pdb_driver

    sys.exit(pdb_driver.main())
