"""What the program under test may not do in the eval's process: a PEP 578 audit hook.

Installed by the eval plugin before collection, so before any code of the
workspace runs; an audit hook cannot be removed once added. It refuses the
usual ways from the program to the harness when the code that asks is the
workspace's (its frames, or code it compiled from strings):

- ``/proc/<pid>/...`` and ``/dev/fd/...`` (the record channel, the memory,
  the environment of this or another process), and links pointing there;
- the garbage collector's object graph (``gc.get_objects``/``get_referrers``/
  ``get_referents``), and frames: ``sys._getframe``, ``sys._current_frames``,
  ``tb_frame``/``gi_frame``/``cr_frame``/``ag_frame``, trace and profile
  functions (``inspect``'s helpers and pytest's own count as the caller's);
- replacing the code, defaults or globals of functions that are not the
  program's (the tests', pytest's), and making code objects;
- ctypes, when the program itself loads or uses it (a library that uses
  ctypes, as z3 or torch do, keeps working: the nearest caller outside the
  standard library decides);
- signals to other processes;
- opening a test file for writing, and writing, moving or linking bytecode
  (``.pyc``: a planted one would replace a test module that is imported
  later; the host removes any left in the workspace before each run).

Each refusal raises ``PermissionError`` in the program and is reported to
``evidence`` (the eval's record channel), which voids the run.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from types import CodeType, FrameType
from typing import Any, Callable, Optional, Tuple

Evidence = Callable[[str], None]
Rule = Callable[[str, Tuple[Any, ...]], Optional[str]]

PROC_PREFIXES = ("/proc/", "/dev/fd/")
FRAME_ATTRIBUTES = frozenset(("tb_frame", "gi_frame", "cr_frame", "ag_frame"))
FUNCTION_ATTRIBUTES = frozenset(("__code__", "__defaults__", "__kwdefaults__", "__globals__", "__closure__"))
CTYPES_EVENTS = frozenset(
    (
        "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata", "ctypes.cdata/buffer",
        "ctypes.string_at", "ctypes.wstring_at", "ctypes.addressof", "ctypes.call_function", "ctypes.set_errno",
    )
)  # fmt: skip
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# Where the standard library and site-packages are, found once here (in the warm interpreter, before its
# forks): sysconfig computes them at a cost each run would pay.
_PATHS = sysconfig.get_paths()


def _proc_path(path: object) -> bool:
    if isinstance(path, bytes):
        path = path.decode("utf-8", "replace")
    if not isinstance(path, str):
        return False
    path = os.path.normpath(path) + "/"
    if path.startswith("/dev/fd/"):
        return True
    if not path.startswith("/proc/"):
        return False
    first = path[len("/proc/") :].split("/", 1)[0]
    return first.isdigit() or first in ("self", "thread-self")


class Guard:
    """The audit hook's state: where the workspace is, what the standard library is, who to tell."""

    def __init__(self, workspace: str, test_files: list[str], evidence: Evidence) -> None:
        self.workspace = os.path.realpath(workspace) + os.sep
        self.test_files = {os.path.realpath(os.path.join(workspace, f)) for f in test_files}
        paths = _PATHS
        self.stdlib = tuple({os.path.realpath(paths[k]) + os.sep for k in ("stdlib", "platstdlib")})
        self.site = tuple({os.path.realpath(paths[k]) + os.sep for k in ("purelib", "platlib")})
        self.own_file = __file__
        self.harness = (os.path.dirname(os.path.realpath(__file__)) + os.sep,)
        self.evidence = evidence
        self.pid = os.getpid()
        self.busy = False
        self.kinds: dict[str, str] = {}
        self.getframe = sys._getframe
        self.rules: dict[str, Rule] = {
            "open": self.open,
            "os.listdir": self.listdir,
            "os.scandir": self.listdir,
            "os.symlink": self.symlink,
            "os.rename": self.move,
            "os.replace": self.move,
            "os.link": self.move,
            "shutil.copyfile": self.move,
            "gc.get_objects": self.always,
            "gc.get_referrers": self.always,
            "gc.get_referents": self.always,
            "sys._getframe": self.frame,
            "sys._current_frames": self.frame,
            "sys.settrace": self.frame,
            "sys.setprofile": self.frame,
            "object.__getattr__": self.getattr,
            "object.__setattr__": self.setattr,
            "object.__delattr__": self.setattr,
            "code.__new__": self.always,
            "compile": self.compile,
            "os.kill": self.kill,
            "os.killpg": self.always,
            "signal.pthread_kill": self.always,
        }
        for event in CTYPES_EVENTS:
            self.rules[event] = self.ctypes

    # -- the hook ------------------------------------------------------------
    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        rule = self.rules.get(event)
        if rule is None or self.busy:
            return
        self.busy = True
        try:
            refusal = rule(event, args)
        finally:
            self.busy = False
        if refusal:
            self.evidence(refusal)
            raise PermissionError("gym-pdb: %s is not allowed while the tests run" % refusal)

    # -- where a call comes from ----------------------------------------------
    def kind(self, filename: str) -> str:
        """``workspace``, ``stdlib``, ``pytest`` or ``library`` for a code object's file name (remembered)."""
        kind = self.kinds.get(filename)
        if kind is None:
            kind = self.kinds[filename] = self._kind(filename)
        return kind

    def _kind(self, filename: str) -> str:
        if filename.startswith("<frozen"):
            return "stdlib"
        if not filename.startswith("/") or filename.startswith(self.workspace):
            return "workspace"  # also code the program compiled from a string
        if filename.startswith(self.harness):
            # the trace tool's sys.monitoring callbacks take their frame with sys._getframe
            return "tracer" if filename.endswith("/trace_monitor.py") else "pytest"
        if filename.startswith(self.site):
            return "pytest" if "/_pytest/" in filename or "/pytest/" in filename or "/pluggy/" in filename else "library"
        if filename.startswith(self.stdlib):
            return "stdlib"
        return "pytest" if "/_pytest/" in filename or "/pluggy/" in filename else "library"

    def event_frame(self) -> FrameType | None:
        """The frame whose call raised the event (the first one above this file's)."""
        frame: FrameType | None = self.getframe(1)
        while frame is not None and frame.f_code.co_filename == self.own_file:
            frame = frame.f_back
        return frame

    def caller(self, transparent: tuple[str, ...]) -> str:
        """The kind of the nearest frame above the event whose kind is not in ``transparent``."""
        frame = self.event_frame()
        while frame is not None:
            code = frame.f_code
            kind = self.kind(code.co_filename)
            if kind not in transparent and not (kind == "stdlib" and self.hands_frames(code)):
                return kind
            frame = frame.f_back
        return "stdlib"

    def hands_frames(self, code: CodeType) -> bool:
        """Standard library code that gives frames to its caller (inspect, traceback's walkers)."""
        name = code.co_filename
        return name.endswith("/inspect.py") or (name.endswith("/traceback.py") and code.co_name.startswith("walk_"))

    def from_program(self) -> bool:
        """Whether the nearest caller outside the standard library is the workspace's code."""
        return self.caller(("stdlib",)) == "workspace"

    # -- rules: each returns what it refused, or None -------------------------
    def always(self, event: str, args: tuple[Any, ...]) -> str | None:
        return event if self.from_program() else None

    def frame(self, event: str, args: tuple[Any, ...]) -> str | None:
        return event if self.caller(("pytest",)) == "workspace" else None

    def getattr(self, event: str, args: tuple[Any, ...]) -> str | None:
        if len(args) > 1 and args[1] in FRAME_ATTRIBUTES:
            return self.frame("reading %s" % args[1], args)
        return None

    def setattr(self, event: str, args: tuple[Any, ...]) -> str | None:
        target, name = args[0], args[1]
        if name not in FUNCTION_ATTRIBUTES or not self.from_program():
            return None
        code = getattr(target, "__code__", None)
        filename = os.path.realpath(code.co_filename) if code is not None else ""
        if filename.startswith(self.workspace) and filename not in self.test_files:
            return None  # the program's own functions
        return "changing %s of %s" % (name, getattr(target, "__qualname__", type(target).__name__))

    def open(self, event: str, args: tuple[Any, ...]) -> str | None:
        path, mode = args[0], args[1]
        if _proc_path(path) and self.from_program():
            return "opening %s" % (path,)
        if isinstance(path, (str, bytes)) and self._writes(mode, args[2] if len(args) > 2 else 0):
            real = os.path.realpath(os.fsdecode(path))
            if real in self.test_files and self.from_program():
                return "writing the test file %s" % os.path.basename(real)
            if real.endswith(".pyc") and self.from_program():
                return "writing bytecode (%s)" % os.path.basename(real)
        return None

    def move(self, event: str, args: tuple[Any, ...]) -> str | None:
        target = args[1] if len(args) > 1 else None
        if isinstance(target, (str, bytes)) and os.fsdecode(target).endswith(".pyc") and self.from_program():
            return "%s to bytecode (%s)" % (event, os.path.basename(os.fsdecode(target)))
        return None

    @staticmethod
    def _writes(mode: object, flags: object) -> bool:
        if isinstance(mode, str):
            return any(c in mode for c in "wax+")
        return isinstance(flags, int) and bool(flags & WRITE_FLAGS)

    def listdir(self, event: str, args: tuple[Any, ...]) -> str | None:
        return "listing %s" % (args[0],) if args and _proc_path(args[0]) and self.from_program() else None

    def symlink(self, event: str, args: tuple[Any, ...]) -> str | None:
        return "a link to %s" % (args[0],) if _proc_path(args[0]) and self.from_program() else None

    def compile(self, event: str, args: tuple[Any, ...]) -> str | None:
        filename = args[1] if len(args) > 1 else ""
        if isinstance(filename, bytes):
            filename = filename.decode("utf-8", "replace")
        if not isinstance(filename, str) or not filename.startswith("/") or filename.startswith(self.workspace):
            return None
        frame = self.event_frame()
        if frame is not None and frame.f_code.co_filename.startswith("<frozen"):
            return None  # the import system compiling a module from its file
        return "compiling code that claims to be %s" % filename if self.from_program() else None

    def kill(self, event: str, args: tuple[Any, ...]) -> str | None:
        return "a signal to process %s" % (args[0],) if args[0] != self.pid and self.from_program() else None

    def ctypes(self, event: str, args: tuple[Any, ...]) -> str | None:
        return event if self.from_program() else None


def install(workspace: str, test_files: list[str], evidence: Evidence) -> None:
    """Add the guard's audit hook to this process (for good)."""
    sys.addaudithook(Guard(workspace, test_files, evidence))
