"""The task-source protocol: what an env, ``gym-pdb list`` and ``gym-pdb eval`` read tasks through.

A suite folder, the HumanEvalFix file, an RL parquet, the Demo tasks and the
generated ``PDB-Synthetic-v0`` stream are all a :class:`TaskSource`: a
mapping of task ids to :class:`~gym_pdb.tasks.task.Task` that also says
whether it is a finite list or an unbounded stream, and picks a task with a
random generator. Code that needs to tell a stream apart asks
``source.unbounded``, never whether the object happens to have a method.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar, Union

import numpy as np

from gym_pdb.tasks.task import Task

#: What :meth:`TaskSource.sample` draws from: an env's ``np_random`` or a ``random.Random``.
Rng = Union[np.random.Generator, random.Random]


def pick(ids: Sequence[str], rng: Rng) -> str:
    """One of ``ids``, uniformly; with a numpy Generator, the draw ``PDBEnv`` has always made."""
    if not ids:
        raise ValueError("no task to pick from")
    if isinstance(rng, random.Random):
        return ids[rng.randrange(len(ids))]
    return ids[int(rng.integers(len(ids)))]


class TaskSource(Mapping[str, Task]):
    """Tasks by id, finite (a suite) or unbounded (a generated stream).

    A finite source knows every id up front: ``len`` and iteration cover it
    and :meth:`sample` picks one uniformly. An unbounded one
    (``unbounded = True``) lists the tasks made so far, :meth:`sample` makes a
    new one, and ``id in source`` may hold for ids it can still make.

    Attributes:
        name: what its tasks' ``Task.suite`` says (``debugbench``, ``synthetic``...).
        unbounded: whether it is a stream rather than a list.
    """

    name: str = ""
    unbounded: ClassVar[bool] = False

    def sample(self, rng: Rng) -> str:
        """The id of a task drawn with ``rng``: uniform over the ids of a finite source."""
        return pick(list(self), rng)

    def close(self) -> None:
        """Release what making tasks holds (a stream's sandboxes); the tasks stay readable."""


class TaskDict(TaskSource):
    """A finite source over tasks already in memory (a list, a dict, an RL parquet's rows)."""

    def __init__(self, tasks: Mapping[str, Task] | Iterable[Task], name: str = ""):
        self._tasks = dict(tasks) if isinstance(tasks, Mapping) else {t.id: t for t in tasks}
        self.name = name

    def __getitem__(self, task_id: str) -> Task:
        return self._tasks[task_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)


class LazyTasks(TaskSource):
    """A finite source whose ids are known up front; each task is made by :meth:`_load` on first access, then kept.

    Opening a suite of a thousand tasks then costs a directory listing, not a
    thousand file reads.
    """

    def __init__(self, ids: Iterable[str], name: str = ""):
        self._ids = list(ids)
        self._known = set(self._ids)
        self._cache: dict[str, Task] = {}
        self.name = name

    def _load(self, task_id: str) -> Task:
        raise NotImplementedError

    def __getitem__(self, task_id: str) -> Task:
        if task_id not in self._cache:
            if task_id not in self._known:
                raise KeyError(task_id)
            self._cache[task_id] = self._load(task_id)
        return self._cache[task_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._known


def as_source(tasks: TaskSource | Mapping[str, Task] | Iterable[Task], name: str = "") -> TaskSource:
    """``tasks`` as a source: a source as it is, a mapping or a list of tasks copied into a :class:`TaskDict`."""
    if isinstance(tasks, TaskSource):
        return tasks
    return TaskDict(tasks, name)
