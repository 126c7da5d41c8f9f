"""A served suite's tasks, read through OpenEnv's task API (``/{env}/tasks``, ``/{env}/task``).

What a remote env's caller needs of the tasks: their ids (to pick an
episode's task, as ``gym-pdb eval`` does) and, for one task, its files and
gold fix (the expert replays it). Tasks are fetched when first asked for and
kept; the list of ids once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from gym_pdb.tasks.source import TaskSource
from gym_pdb.tasks.task import Task

SPLIT = "all"


def http_url(url: str) -> str:
    """The HTTP base of a server given as ws://, wss://, http:// or https://."""
    url = url.rstrip("/")
    for ws, http in (("ws://", "http://"), ("wss://", "https://")):
        if url.startswith(ws):
            return http + url[len(ws) :]
    return url if url.startswith(("http://", "https://")) else "http://" + url


class RemoteTasks(TaskSource):
    """The tasks of the env served at ``url``: a finite task source, each task fetched on first use."""

    def __init__(self, url: str, env_id: str, headers: Mapping[str, str] | None = None, timeout: float = 60.0):
        self.url = http_url(url)
        self.env_id = env_id
        self.name = env_id
        self._client = httpx.Client(base_url=self.url, headers=dict(headers or {}), timeout=timeout)
        self._index: dict[str, int] | None = None
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._client.post(f"/{self.env_id}/{route}", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{self.url}: {route} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    @property
    def index(self) -> dict[str, int]:
        with self._lock:
            if self._index is None:
                listed = self._post("tasks", {"split": SPLIT})["tasks"]
                self._index = {str(t["id"]): int(t["index"]) for t in listed}
            return self._index

    def __getitem__(self, task_id: str) -> Task:
        if task_id in self._tasks:
            return self._tasks[task_id]
        position = self.index.get(task_id)
        if position is None:
            self.refresh()  # a generated suite: the task may be newer than the list
            position = self.index.get(task_id)
            if position is None:
                raise KeyError(task_id)
        data = self._post("task", {"split": SPLIT, "index": position})["task"]
        task = Task.from_dict(data)
        self._tasks[task_id] = task
        return task

    def refresh(self) -> None:
        with self._lock:
            self._index = None

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.index

    def close(self) -> None:
        self._client.close()


__all__ = ["RemoteTasks", "http_url"]
