"""The trace tool's tracer on ``sys.monitoring`` (PEP 669), for a 3.12+ interpreter (stdlib only).

``trace_calls.Tracer`` keeps the trace (numbering, folding, limits, the
record); this drives it from ``sys.monitoring`` events instead of
``sys.settrace``, and gives the same observation: the events map as 3.12's
own settrace emulation maps them (PY_START, PY_RESUME and PY_THROW are a
call; PY_RETURN and PY_YIELD a return; PY_UNWIND a return by an exception).

What makes it cheaper: code outside the workspace is switched off for good
(``DISABLE`` from its start and return events), and LINE events are local
to a code object, on only while the running call of that code is traced line
by line, so a folded recursion costs two callbacks a call and no line events.

``sys.monitoring`` is process-wide where ``sys.settrace`` is per thread, so
events of other threads than the one that started the trace are ignored, as
settrace would not have seen them. The callbacks get no frame: they take it
with ``sys._getframe(1)``, which the guard (``guard.py``) allows from this file.
"""

from __future__ import annotations

import sys
import threading
from types import CodeType, FrameType
from typing import Any, Dict, List, Optional

TOOL_IDS = (4, 3)  # unreserved ids (0 debugger, 1 coverage, 2 profiler, 5 optimizer are named by the stdlib)
NAME = "gym-pdb trace"


def available() -> bool:
    """Whether this interpreter has ``sys.monitoring`` (3.12+)."""
    return hasattr(sys, "monitoring")


class Monitor:
    """Feeds a ``trace_calls.Tracer`` from ``sys.monitoring``: ``start()`` (False when no tool id is free), ``stop()``."""

    def __init__(self, tracer: Any, max_line_events: int):
        self.tracer = tracer
        self.max_line_events = max_line_events
        self.mon: Any = getattr(sys, "monitoring")  # noqa: B009 (3.12+: the type check targets 3.11)
        self.tool: Optional[int] = None
        self.codes: List[CodeType] = []  # the code of each call on the tracer's stack
        self.lines_on: Dict[CodeType, bool] = {}  # code -> whether its LINE events are on
        self.thread = 0
        self.getframe = sys._getframe
        self.ident = threading.get_ident

    def callbacks(self) -> Dict[int, Any]:
        events = self.mon.events
        return {
            events.PY_START: self.on_start, events.PY_RESUME: self.on_start, events.PY_THROW: self.on_throw,
            events.PY_RETURN: self.on_return, events.PY_YIELD: self.on_return, events.PY_UNWIND: self.on_unwind,
            events.LINE: self.on_line,
        }  # fmt: skip

    def start(self) -> bool:
        mon = self.mon
        for tool in TOOL_IDS:
            try:
                mon.use_tool_id(tool, NAME)
            except ValueError:  # taken by another tool
                continue
            self.tool = tool
            break
        else:
            return False
        self.thread = self.ident()
        self.codes = []
        self.lines_on = {}
        events = 0
        for event, callback in self.callbacks().items():
            mon.register_callback(self.tool, event, callback)
            if event != mon.events.LINE:
                events |= event
        mon.restart_events()  # what an earlier trace disabled (another workspace's code may be this one's)
        mon.set_events(self.tool, events)
        return True

    def stop(self) -> None:
        tool = self.tool
        if tool is None:
            return
        mon = self.mon
        mon.set_events(tool, 0)
        for code in self.lines_on:
            mon.set_local_events(tool, code, 0)
        self.lines_on = {}
        for event in self.callbacks():
            mon.register_callback(tool, event, None)
        mon.free_tool_id(tool)
        self.tool = None

    # -- events ----------------------------------------------------------------
    def wants_lines(self, entry: Any) -> bool:
        """Whether a call (``entry``, None when only counted) is traced line by line now."""
        return entry is not None and entry.lines is not None and len(entry.lines) < self.max_line_events

    def lines(self, code: CodeType, entry: Any) -> None:
        """Turn ``code``'s LINE events on or off for its call now running (``entry``)."""
        wanted = self.wants_lines(entry)
        if self.lines_on.get(code, False) != wanted:
            self.lines_on[code] = wanted
            self.mon.set_local_events(self.tool, code, self.mon.events.LINE if wanted else 0)

    def on_start(self, code: CodeType, offset: int) -> Any:
        if self.ident() != self.thread:
            return None
        tracer = self.tracer
        try:
            name = tracer.names[code]
        except KeyError:
            name = tracer.names[code] = tracer.name_of(code)
        if name is None:
            return self.mon.DISABLE
        tracer.number += 1
        try:
            entry = tracer.begin(self.getframe(1), code, name, len(tracer.stack) + 1)
        except Exception:  # an exception here would land in the program
            entry = None
        tracer.stack.append(entry)
        self.codes.append(code)
        lines = entry.lines if entry is not None else None  # as wants_lines, inline: this runs at every call
        if self.lines_on.get(code, False) is not (lines is not None and len(lines) < self.max_line_events):
            self.lines(code, entry)
        return None

    def on_throw(self, code: CodeType, offset: int, exc: BaseException) -> None:
        self.on_start(code, offset)  # PY_THROW cannot be disabled: on_start's DISABLE is dropped

    def on_line(self, code: CodeType, line: int) -> Any:
        if self.ident() != self.thread:
            return None
        tracer = self.tracer
        entry = tracer.stack[-1] if tracer.stack else None
        if entry is None or entry.lines is None or entry.code is not code:
            return None
        if entry.steps is not None:
            tracer.step(entry, self.getframe(1))
        entry.lines.append(line)
        if len(entry.lines) >= self.max_line_events:
            self.lines(code, entry)
        return None

    def finish(self, code: CodeType, raised: Optional[BaseException], value: Any) -> Any:
        if self.ident() != self.thread:
            return None
        if not self.codes or self.codes[-1] is not code:  # not a call this trace saw start
            return self.mon.DISABLE if raised is None and self.tracer.names.get(code, "") is None else None
        tracer = self.tracer
        self.codes.pop()
        entry = tracer.stack.pop()
        if entry is not None:
            if raised is not None:
                entry.raised = (type(raised), raised, raised.__traceback__)
            frame: Optional[FrameType] = self.getframe(2) if entry.lines is not None else None
            tracer.end(entry, frame, value)
        if self.codes:  # the caller runs again: its code's LINE events as it needs them
            caller, code = tracer.stack[-1], self.codes[-1]
            lines = caller.lines if caller is not None else None
            if self.lines_on.get(code, False) is not (lines is not None and len(lines) < self.max_line_events):
                self.lines(code, caller)
        return None

    def on_return(self, code: CodeType, offset: int, value: Any) -> Any:
        return self.finish(code, None, value)

    def on_unwind(self, code: CodeType, offset: int, exc: BaseException) -> None:
        self.finish(code, exc, None)  # PY_UNWIND cannot be disabled
