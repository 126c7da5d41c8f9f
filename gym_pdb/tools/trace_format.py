"""A trace run as the agent reads it: one block per test, a line or two per call, cut to a budget.

Each call reads ``#N name(args) -> result`` (or ``!! raised ...``), indented by
its depth, then ``lines ... | branches ... | changed ...`` when it was traced
line by line. A fold says how many calls of a function were only counted.
An expanded call (``call=N``) adds its steps: each line run, its source, and
the locals it changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SOURCE_CHARS = 60


@dataclass
class TraceRun:
    """What a trace run left: its trace records (one per test, or the program's), the rest, and its output."""

    runner: str
    targets: list[str]
    traces: list[dict[str, Any]] = field(default_factory=list)
    collect_errors: list[str] = field(default_factory=list)
    output: str = ""
    timed_out: bool = False
    elapsed: float = 0.0


def format_trace(run: TraceRun, files: Mapping[str, str], budget: int, expand: int | None = None) -> str:
    """The run's traces as text of at most about ``budget`` characters (the head kept, the cut said)."""
    what = "the program" if run.runner == "python" else "the tests"
    head = f"Trace of {' '.join(run.targets)} ({what}; a trace earns no reward, run eval to check a fix)."
    lines = [head]
    if run.timed_out:
        lines.append(f"The run was stopped after {run.elapsed:.0f}s.")
    for err in run.collect_errors:
        lines.append("Collection error:\n" + err.strip()[-1500:])
    if not run.traces:
        if not run.collect_errors:
            lines.append("No test ran, so there is nothing to trace. Output:\n" + (run.output.strip()[-1500:] or "(none)"))
        return "\n".join(lines)
    for trace in run.traces:
        lines.extend(_trace_block(trace, files, expand))
    if run.runner == "python" and run.output.strip():
        lines.append("Program output:\n" + _cut(run.output.strip(), 1000))
    return _fit(lines, budget)


def _trace_block(trace: dict[str, Any], files: Mapping[str, str], expand: int | None) -> list[str]:
    entries = [e for e in trace.get("entries", []) if isinstance(e, dict)]
    hidden = trace.get("hidden", {}) if isinstance(trace.get("hidden"), dict) else {}
    total = int(trace.get("calls", 0))
    shown = sum(1 for e in entries if "fold" not in e)
    folded = sum(int(e.get("count", 0)) for e in entries if "fold" in e)
    notes = [f"{shown} shown"]
    if folded:
        notes.append(f"{folded} folded")
    for key, text in (("deeper", "deeper than max_depth"), ("filtered", "not matching the filter"), ("over", "past max_calls")):
        if hidden.get(key):
            notes.append(f"{hidden[key]} {text}")
    out = [
        f"== {trace.get('target')}: {trace.get('outcome')} ==",
        f"{_calls(total)} of workspace functions ({', '.join(notes)}).",
    ]
    if trace.get("cut"):
        out.append("(the trace was too large and was cut)")
    for entry in entries:
        out.extend(_entry(entry, files))
    if expand is not None and not any("steps" in e for e in entries):
        out.append(f"Call #{expand} did not happen in this run ({_calls(total)}).")
    return out


def _entry(entry: dict[str, Any], files: Mapping[str, str]) -> list[str]:
    if "fold" in entry:
        pad = "  " * max(0, int(entry.get("low", 1)) - 1)
        low, high = entry.get("low"), entry.get("high")
        depth = f"depth {low}" if low == high else f"depth {low}-{high}"
        return [
            f"{pad}... {_calls(int(entry.get('count', 0)), 'more ')} of {entry['fold']} from #{entry.get('n')} on "
            f"({depth}) folded: not traced line by line; the last few are shown"
        ]
    pad = "  " * max(0, int(entry.get("d", 1)) - 1)
    args = ", ".join(f"{name}={value}" for name, value in entry.get("a", []))
    ending = f"!! raised {entry['x']}" if "x" in entry else f"-> {entry.get('r')}"
    out = [f"{pad}#{entry.get('n')} {entry.get('f')}({args}) {ending}"]
    details = []
    if "l" in entry:
        details.append(f"lines {entry['l']}" + (" (cut)" if entry.get("lines_cut") else ""))
    if entry.get("b"):
        details.append(f"branches {entry['b']}")
    if entry.get("c"):
        details.append("changed " + ", ".join(f"{name}={value}" for name, value in entry["c"]))
    if details:
        out.append(f"{pad}    " + " | ".join(details))
    if "steps" in entry:
        out.extend(_steps(entry, files, pad))
    return out


def _steps(entry: dict[str, Any], files: Mapping[str, str], pad: str) -> list[str]:
    path = str(entry.get("f", "")).split(":", 1)[0]
    source = files.get(path, "").splitlines()
    out = [f"{pad}    line by line (line, source, locals changed by it):"]
    for line, changes in entry["steps"]:
        text = source[line - 1].strip() if 0 < line <= len(source) else ""
        changed = ", ".join(f"{name}={value}" for name, value in changes)
        out.append(f"{pad}    {line:4d}  {_cut(text, SOURCE_CHARS):{SOURCE_CHARS}s}  {changed}".rstrip())
    return out


def _calls(count: int, more: str = "") -> str:
    return f"{count} {more}call{'' if count == 1 else 's'}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fit(lines: list[str], budget: int) -> str:
    """The lines up to ``budget`` characters; what is left out is counted, with how to see it."""
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) + 1 > budget and kept:
            rest = len(lines) - i
            kept.append(
                f"... {rest} more lines of the trace cut (the output budget); narrow it with function=NAME, "
                "max_calls=N or max_depth=N, or a single test"
            )
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
