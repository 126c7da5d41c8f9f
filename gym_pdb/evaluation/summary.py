"""Summaries of runs: resolve rates with 95% intervals and tool use, per suite x agent x model.

The agent column is the run's ``label`` when its config gave one (an ablation
of one agent under several tool sets or schedules puts each side by side),
else the agent's name.

Episodes that ended with an error (the model server down, a broken sandbox)
are counted apart and left out of the rates: they measure the infrastructure,
not the agent.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from gym_pdb.evaluation.results import read_rows
from gym_pdb.tasks.registry import TASK_SOURCES

ALL = "all"


@dataclass
class Group:
    suite: str
    agent: str
    model: str
    episodes: int = 0
    resolved: int = 0
    errors: int = 0
    steps: int = 0
    tools: dict[str, int] = field(default_factory=dict)
    tokens: int = 0
    step_budgets: list[int] = field(default_factory=list)  # steps of the resolved episodes
    max_steps: int = 0
    observation_chars: int = 0

    @property
    def rate(self) -> float:
        return self.resolved / self.episodes if self.episodes else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.resolved, self.episodes)

    def per_episode(self, value: float) -> float:
        return value / self.episodes if self.episodes else 0.0


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials (95% for z = 1.96)."""
    if n == 0:
        return 0.0, 0.0
    p = k / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def suite_label(row: dict[str, Any]) -> str:
    """The suite a row counts under: its env's source, and the folder too for a source that is any data_dir (Custom)."""
    env_id = row.get("env_id") or ""
    name = env_id.removeprefix("PDB-").removesuffix("-v0") if env_id else row.get("suite", "?")
    spec = TASK_SOURCES.get(name)
    if spec is not None and spec.from_data_dir:
        return f"{name}:{row.get('suite') or '?'}"
    return str(name)


def read_results(run_dirs: Iterable[str | os.PathLike]) -> list[dict[str, Any]]:
    """The rows of every run directory (the last row of each task in each)."""
    rows = []
    for run_dir in run_dirs:
        rows.extend(read_rows(run_dir))
    return rows


def summarize(rows: Iterable[dict[str, Any]], totals: bool = True) -> list[Group]:
    """One group per suite x agent x model; with ``totals``, an ``all`` row per agent x model over several suites."""
    groups: dict[tuple[str, str, str], Group] = {}
    suites_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        suite = suite_label(row)
        keys = [(suite, row.get("label") or row.get("agent", "?"), row.get("model") or "-")]
        suites_of[keys[0][1:]].add(suite)
        if totals:
            keys.append((ALL, *keys[0][1:]))
        for key in keys:
            group = groups.setdefault(key, Group(*key))
            _add(group, row)
    out = []
    for key in sorted(groups, key=lambda k: (k[1], k[2], k[0] == ALL, k[0])):
        if key[0] == ALL and len(suites_of[key[1:]]) < 2:
            continue
        out.append(groups[key])
    return out


def _add(group: Group, row: dict[str, Any]) -> None:
    group.max_steps = max(group.max_steps, int(row.get("max_steps") or 0))
    if row.get("error"):
        group.errors += 1
        return
    group.episodes += 1
    group.steps += int(row.get("steps") or 0)
    tokens = row.get("tokens") or {}
    group.tokens += int(tokens.get("prompt", 0)) + int(tokens.get("completion", 0))
    group.observation_chars += int(row.get("observation_chars") or 0)
    for tool, n in (row.get("tool_counts") or {}).items():
        group.tools[tool] = group.tools.get(tool, 0) + int(n)
    if row.get("resolved"):
        group.resolved += 1
        group.step_budgets.append(int(row.get("steps") or 0))


COLUMNS = (
    "suite", "agent", "model", "n", "resolved", "95% CI", "steps/ep", "pdb/ep", "rewrites/ep", "obs chars/ep",
    "tool mix", "errors",
)  # fmt: skip
MIX_TOOLS = 5


def table_rows(groups: list[Group]) -> list[list[str]]:
    rows = []
    for g in groups:
        lo, hi = g.interval
        rows.append(
            [
                g.suite,
                g.agent,
                g.model,
                str(g.episodes),
                f"{100 * g.rate:.1f}% ({g.resolved})",
                f"{100 * lo:.1f}-{100 * hi:.1f}%",
                f"{g.per_episode(g.steps):.1f}",
                f"{g.per_episode(g.tools.get('pdb', 0)):.1f}",
                f"{g.per_episode(g.tools.get('rewrite', 0)):.1f}",
                f"{g.per_episode(g.observation_chars):.0f}",
                tool_mix(g),
                str(g.errors),
            ]
        )
    return rows


def tool_mix(group: Group) -> str:
    """The share of each tool in the group's calls, most used first: ``eval 40% rewrite 30% trace 30%``."""
    total = sum(group.tools.values())
    if not total:
        return "-"
    top = sorted(group.tools.items(), key=lambda item: (-item[1], item[0]))[:MIX_TOOLS]
    return " ".join(f"{tool} {100 * n / total:.0f}%" for tool, n in top)


def format_table(groups: list[Group], fmt: str = "terminal") -> str:
    """The summary as a markdown table or aligned terminal columns."""
    rows = table_rows(groups)
    if fmt == "markdown":
        lines = [
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "|".join("---" if i < 3 else "---:" for i in range(len(COLUMNS))) + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    if fmt != "terminal":
        raise ValueError(f"format must be terminal or markdown, not {fmt!r}")
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))).rstrip()

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *map(line, rows)])
