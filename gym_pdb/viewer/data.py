"""What the viewer's pages read, built from run folders: the index and one payload per episode.

The index holds the summary (``gym-pdb summarize``'s groups and table cells,
computed by :mod:`gym_pdb.evaluation.summary`) and one short row per episode,
so the overview renders from one script. An episode's payload (its
trajectory, per-turn records, patch and gold diff) is loaded only when the
episode is opened. Both are plain JSON; :mod:`gym_pdb.viewer.site` wraps them
in scripts, so the pages work from ``file://`` where fetching JSON does not.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from gym_pdb.evaluation.results import RESULTS, read_rows, safe_name
from gym_pdb.evaluation.summary import ALL, COLUMNS, Group, summarize, suite_label, table_rows


@dataclass
class Run:
    """One run folder, its rows read once (and again when ``results.jsonl`` changes: a run still going)."""

    id: str
    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # episode key -> row
    stamp: tuple[float, int] = (0.0, 0)

    def refresh(self) -> bool:
        """Reread the rows if ``results.jsonl`` changed; True if it did."""
        try:
            st = (self.path / RESULTS).stat()
            stamp = (st.st_mtime, st.st_size)
        except OSError:
            stamp = (0.0, 0)
        if stamp == self.stamp and self.rows:
            return False
        self.stamp, self.rows, self.keys = stamp, read_rows(self.path), {}
        for row in self.rows:
            key = episode_key(self.id, row)
            while key in self.keys:  # two env ids with one suite name: keep both
                key += "_"
            self.keys[key] = row
        return True


class Runs:
    """The run folders the viewer shows, in the order given (``r0``, ``r1``, ...)."""

    def __init__(self, paths: Iterable[str | os.PathLike]):
        self.runs = [Run(f"r{i}", Path(p)) for i, p in enumerate(paths)]
        missing = [str(r.path) for r in self.runs if not (r.path / RESULTS).is_file()]
        if missing:
            raise FileNotFoundError(f"no {RESULTS} in {', '.join(missing)}")
        self.refresh()

    def refresh(self) -> bool:
        return any([run.refresh() for run in self.runs])

    @property
    def version(self) -> str:
        """Changes whenever a run's results change (plots are cached by it)."""
        return "-".join(f"{int(r.stamp[0] * 1000)}.{r.stamp[1]}" for r in self.runs)

    def row(self, key: str) -> tuple[Run, dict[str, Any]] | None:
        for run in self.runs:
            if key in run.keys:
                return run, run.keys[key]
        return None

    def groups(self) -> list[Group]:
        """``gym-pdb summarize``'s groups over every run given."""
        return summarize([row for run in self.runs for row in run.rows])


def episode_key(run_id: str, row: dict[str, Any]) -> str:
    """``r0/<suite>/<task>``: the episode's name in URLs and in the exported site's paths."""
    suite = safe_name(row.get("suite") or row.get("env_id") or "_")
    return f"{run_id}/{suite}/{safe_name(str(row.get('task_id', '_')))}"


def index_data(runs: Runs, plots: list[str]) -> dict[str, Any]:
    """The overview's data: runs, summary table (same cells as ``summarize``), plots, one row per episode."""
    groups = runs.groups()
    cells = table_rows(groups)
    tools: set[str] = set()
    episodes = []
    for run_index, run in enumerate(runs.runs):
        for key, row in run.keys.items():
            counts = {k: int(v) for k, v in (row.get("tool_counts") or {}).items()}
            tools.update(counts)
            tokens = row.get("tokens") or {}
            episodes.append(
                {
                    "key": key,
                    "run": run_index,
                    "task": str(row.get("task_id", "")),
                    "suite": suite_label(row),
                    "agent": row.get("agent", "?"),
                    "model": row.get("model") or "-",
                    "resolved": bool(row.get("resolved")),
                    "steps": int(row.get("steps") or 0),
                    "passed": row.get("tests_passed", -1),
                    "total": row.get("tests_total", -1),
                    "tools": counts,
                    "tokens": int(tokens.get("prompt", 0)) + int(tokens.get("completion", 0)),
                    "wall": row.get("wall_time", 0.0),
                    "stop": row.get("stop_reason", ""),
                    "error": row.get("error") or "",
                }
            )
    return {
        "runs": [_run_info(run) for run in runs.runs],
        "columns": list(COLUMNS),
        "groups": [
            {"suite": g.suite, "agent": g.agent, "model": g.model, "total": g.suite == ALL, "cells": c, "tools": g.tools}
            for g, c in zip(groups, cells, strict=True)
        ],
        "plots": plots,
        "tools": sorted(tools),
        "episodes": episodes,
    }


def _run_info(run: Run) -> dict[str, Any]:
    agents = sorted({(r.get("agent", "?"), r.get("model") or "-") for r in run.rows})
    return {
        "id": run.id,
        "path": str(run.path),
        "name": run.path.resolve().name,
        "label": ", ".join(a if m in ("-", "scripted") else f"{a} ({m})" for a, m in agents) or "(empty)",
        "episodes": len(run.rows),
    }


def episode_data(runs: Runs, key: str) -> dict[str, Any] | None:
    """An episode's payload: its results row, trajectory, per-turn records, final patch and gold diff."""
    found = runs.row(key)
    if found is None:
        return None
    run, row = found
    trajectory = _read_json(run.path, row.get("trajectory"))
    steps = _read_json(run.path, row.get("step_log"))
    return {
        "key": key,
        "run": run.id,
        "suite": suite_label(row),
        "row": row,
        "messages": (trajectory or {}).get("messages", []),
        "enable_thinking": bool((trajectory or {}).get("enable_thinking")),
        "turns": (steps or {}).get("turns"),
        "patch": _read_text(run.path, row.get("patch")),
        "gold_patch": _read_text(run.path, row.get("gold_patch")),
    }


def _read_json(root: Path, rel: str | None) -> Any:
    text = _read_text(root, rel)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _read_text(root: Path, rel: str | None) -> str | None:
    """A file of the run folder named by its row; None when it is not there (or would lie outside the folder)."""
    if not rel:
        return None
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
