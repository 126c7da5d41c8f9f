"""PNG plots of runs (matplotlib): resolve rate by suite, tool-use mix, resolve rate against step budget."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from gym_pdb.evaluation.summary import ALL, Group

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = ("resolve_rate_by_suite.png", "tool_mix.png", "resolve_rate_by_budget.png")


def plot_all(groups: list[Group], out_dir: str | os.PathLike) -> list[Path]:
    """Write the three plots into ``out_dir``; return their paths."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("plots need matplotlib: pip install 'gym-pdb[agents]' (or pip install matplotlib)") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in PLOTS]
    per_suite = [g for g in groups if g.suite != ALL]
    runs = sorted({(g.agent, g.model) for g in per_suite})
    suites = sorted({g.suite for g in per_suite})
    by_key = {(g.suite, g.agent, g.model): g for g in per_suite}

    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(suites) * max(1, len(runs)) ** 0.5 + 2), 4))
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        xs: list[float] = []
        ys: list[float] = []
        errs: list[list[float]] = [[], []]
        for j, suite in enumerate(suites):
            g = by_key.get((suite, *run))
            if g is None or not g.episodes:
                continue
            lo, hi = g.interval
            xs.append(j + (i - (len(runs) - 1) / 2) * width)
            ys.append(100 * g.rate)
            errs[0].append(100 * (g.rate - lo))
            errs[1].append(100 * (hi - g.rate))
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=_label(run))
    ax.set_xticks(range(len(suites)), suites, rotation=20, ha="right")
    ax.set_ylabel("resolved (%), 95% interval")
    ax.set_ylim(0, 105)
    ax.set_title("Resolve rate by suite")
    ax.legend(fontsize="small")
    _save(fig, paths[0])

    totals = {run: _merge([g for g in per_suite if (g.agent, g.model) == run]) for run in runs}
    tools = sorted({t for g in totals.values() for t in g.tools})
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(runs) + 2), 4))
    bottom = [0.0] * len(runs)
    for tool in tools:
        shares = []
        for run in runs:
            counts = totals[run].tools
            total = sum(counts.values())
            shares.append(100 * counts.get(tool, 0) / total if total else 0.0)
        ax.bar(range(len(runs)), shares, 0.6, bottom=bottom, label=tool)
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    ax.set_xticks(range(len(runs)), [_label(r) for r in runs], rotation=20, ha="right")
    ax.set_ylabel("share of tool calls (%)")
    ax.set_title("Tool-use mix")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    _save(fig, paths[1])

    fig, ax = plt.subplots(figsize=(6, 4))
    for run in runs:
        g = totals[run]
        if not g.episodes:
            continue
        budget = max([g.max_steps, *g.step_budgets, 1])
        xs = list(range(1, budget + 1))
        ax.step(
            xs, [100 * sum(s <= k for s in g.step_budgets) / g.episodes for k in xs], where="post", label=_label(run)
        )
    ax.set_xlabel("step budget")
    ax.set_ylabel("resolved within the budget (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Resolve rate against step budget")
    ax.legend(fontsize="small")
    _save(fig, paths[2])
    return paths


def _label(run: tuple[str, str]) -> str:
    agent, model = run
    return agent if model in ("-", "", "scripted") else f"{agent} ({model})"


def _merge(groups: list[Group]) -> Group:
    total = Group(ALL, groups[0].agent, groups[0].model) if groups else Group(ALL, "?", "?")
    for g in groups:
        total.episodes += g.episodes
        total.resolved += g.resolved
        total.steps += g.steps
        total.max_steps = max(total.max_steps, g.max_steps)
        total.step_budgets += g.step_budgets
        for tool, n in g.tools.items():
            total.tools[tool] = total.tools.get(tool, 0) + n
    return total


def _save(fig: Figure, path: str | Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
