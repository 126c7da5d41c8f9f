"""The registry of task sources: a name, and how to load its :class:`~gym_pdb.tasks.source.TaskSource`.

``PDB-<name>-v0`` serves the source registered as ``name``: ``import gym_pdb``
registers a gymnasium id for every source, those registered later included
(it listens through :func:`on_register`). The built-in sources are registered
in :mod:`gym_pdb.tasks.suites`; a new one is a module that loads its tasks
plus one line there (or in your own package, after ``import gym_pdb``)::

    register_source("MySuite", load_my_suite, "what it holds")
    gym.make("PDB-MySuite-v0")

This module imports no loader: a loader imports what it needs when it runs,
so the registry sits below every source and no source imports another
through it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gym_pdb.tasks.source import TaskSource


class SourceLoader(Protocol):
    """Loads a source: ``loader(data_dir, include_broken=..., download=...)``.

    ``data_dir`` is where the data is (None: ``GYM_PDB_DATA``, then the user
    cache); ``include_broken`` keeps the tasks a suite's exclusion list leaves
    out; ``download`` may fetch missing data into the user cache. A loader
    ignores what does not apply to it.
    """

    def __call__(
        self, data_dir: str | os.PathLike[str] | None, *, include_broken: bool, download: bool
    ) -> TaskSource: ...


@dataclass(frozen=True)
class SourceSpec:
    """A registered task source.

    Attributes:
        name: the ``<name>`` of ``PDB-<name>-v0``.
        loader: how to load it (see :class:`SourceLoader`).
        description: one line for ``gym-pdb list``.
        folder: what its tasks' ``Task.suite`` says, when fixed (a suite's data
            folder): how a trajectory's ``suite`` leads back to its env.
        from_data_dir: the source is whatever ``data_dir`` names (``PDB-Custom-v0``):
            nothing to count on its own, and runs are labelled by the tasks' suite.
    """

    name: str
    loader: SourceLoader
    description: str = ""
    folder: str | None = None
    from_data_dir: bool = False

    @property
    def env_id(self) -> str:
        return f"PDB-{self.name}-v0"

    def load(
        self, data_dir: str | os.PathLike[str] | None = None, include_broken: bool = False, download: bool = False
    ) -> TaskSource:
        """The source's tasks (see :class:`SourceLoader` for the arguments)."""
        source = self.loader(data_dir, include_broken=include_broken, download=download)
        if not isinstance(source, TaskSource):
            raise TypeError(f"the loader of {self.name} returned {type(source).__name__}, not a TaskSource")
        return source


#: The registered sources by name, in the order they were registered.
TASK_SOURCES: dict[str, SourceSpec] = {}
_listeners: list[Callable[[SourceSpec], None]] = []
_lock = threading.Lock()


def register_source(
    name: str,
    loader: SourceLoader,
    description: str = "",
    *,
    folder: str | None = None,
    from_data_dir: bool = False,
) -> SourceSpec:
    """Register a task source (see :class:`SourceSpec`); the same registration twice is a no-op."""
    spec = SourceSpec(name, loader, description, folder, from_data_dir)
    with _lock:
        known = TASK_SOURCES.get(name)
        if known is not None and known != spec:
            raise ValueError(f"a task source named {name!r} is already registered")
        TASK_SOURCES[name] = spec
        listeners = list(_listeners)
    for listener in listeners:
        listener(spec)
    return spec


def on_register(listener: Callable[[SourceSpec], None]) -> None:
    """Call ``listener`` for every source registered so far and every one registered later."""
    with _lock:
        _listeners.append(listener)
        known = list(TASK_SOURCES.values())
    for spec in known:
        listener(spec)


def source_spec(name: str) -> SourceSpec:
    """The registered source ``name``; a ValueError naming the known ones if there is none."""
    spec = TASK_SOURCES.get(name)
    if spec is None:
        raise ValueError(f"unknown suite {name!r}; known suites: {', '.join(TASK_SOURCES)}")
    return spec


def load_source(
    name: str, data_dir: str | os.PathLike[str] | None = None, include_broken: bool = False, download: bool = False
) -> TaskSource:
    """The tasks of the source registered as ``name`` (``DebugBench``, ``Demo``, ``Custom``...)."""
    return source_spec(name).load(data_dir, include_broken=include_broken, download=download)
