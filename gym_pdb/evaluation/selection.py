"""Which tasks a run evaluates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gym_pdb.agents.expert import has_gold_fix
from gym_pdb.tasks.source import TaskSource


@dataclass(frozen=True)
class TaskRef:
    env_id: str
    task_id: str


def select_tasks(
    env_ids: list[str],
    tasks: int | list[str] | None,
    seed: int,
    open_suite: Callable[[str], Any],
    need_gold: bool = False,
    workers: int = 1,
) -> tuple[list[TaskRef], list[str]]:
    """The tasks to run, suite by suite, and notes on what was left out.

    ``open_suite(env_id)`` returns the unwrapped env of a suite (no sandbox
    is started before ``reset``). A count takes a sample of that many tasks
    per suite, the same for the same ``seed``; a generated suite makes them
    (``workers`` at once, each from its own seed, so the result is the same).
    ``need_gold`` keeps only the tasks with a gold fix (for the expert).
    """
    refs: list[TaskRef] = []
    notes: list[str] = []
    wanted = set(tasks) if isinstance(tasks, list) else None
    found: set[str] = set()
    for env_id in env_ids:
        suite = open_suite(env_id)
        mapping = suite.tasks
        ids = list(suite.task_ids)
        if wanted is not None:
            ids = [t for t in ids if t in wanted]
            missing = [t for t in wanted if t not in ids and t in mapping]  # known to a generated suite
            ids += sorted(missing)
            found.update(ids)
        if isinstance(tasks, int):
            ids = _sample(ids, tasks, seed, mapping, need_gold, workers)
        elif need_gold:
            ids = [t for t in ids if has_gold_fix(mapping[t])]
        if isinstance(tasks, int) and len(ids) < tasks or not ids:
            gold = " with a gold fix (the expert needs one)" if need_gold else ""
            notes.append(f"{env_id}: {len(ids)} tasks{gold}" + (f", fewer than the {tasks} asked for" if tasks else ""))
        refs.extend(TaskRef(env_id, t) for t in ids)
    if wanted is not None:
        unknown = sorted(wanted - found)
        if unknown:
            raise ValueError(f"no task {', '.join(unknown[:10])} in {', '.join(env_ids)}")
    return refs, notes


def _sample(ids: list[str], count: int, seed: int, mapping: TaskSource, need_gold: bool, workers: int) -> list[str]:
    """``count`` of ``ids`` in a seeded random order (those with a gold fix if ``need_gold``), in suite order."""
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    for i in rng.permutation(len(ids)):
        if len(picked) == count:
            break
        if not need_gold or has_gold_fix(mapping[ids[i]]):
            picked.append(int(i))
    out = [ids[i] for i in sorted(picked)]
    if len(out) >= count or not mapping.unbounded:
        return out

    def make(i: int) -> str | None:
        task_id = mapping.sample(np.random.default_rng([seed, i]))
        return task_id if not need_gold or has_gold_fix(mapping[task_id]) else None

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # a generated suite: make more
        start = 0
        while len(out) < count and start < 20 * count:
            batch = range(start, start + count - len(out))
            start = batch.stop
            out += [t for t in pool.map(make, batch) if t is not None and t not in out]
    return out[:count]
