"""What an episode of a repository task needs before its first step: the task's container, and its tree on the host.

The env keeps one :class:`~gym_pdb.sandbox.docker.repository.RepositorySandbox`
while the tasks share an image (each reset restores the tree in the same
container) and makes a new one when the image changes. The first reset of a
task reads its tree from the container once: the text files become the
task's ``files`` (what view, grep and listdir read), and the gold patch, applied
to them, its ``gold_files``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gym_pdb.sandbox.base import Sandbox
from gym_pdb.sandbox.docker.repository import MAX_MIRROR_BYTES, RepositorySandbox
from gym_pdb.sandbox.kinds import DEFAULT_KIND, ENV_VAR
from gym_pdb.tasks.patch import apply
from gym_pdb.tasks.repository import RepoSpec, repo_spec
from gym_pdb.tasks.task import Task


class RepositoryBackendError(ValueError):
    """A repository task was asked to run on a backend other than Docker."""


def fits(sandbox: Sandbox | None, spec: RepoSpec) -> bool:
    """Whether ``sandbox`` already runs ``spec``'s image and repository."""
    return isinstance(sandbox, RepositorySandbox) and sandbox.image == spec.image and sandbox.repo_path == spec.path


def repository_sandbox(spec: RepoSpec, kind: str | Sandbox | None, kwargs: Mapping[str, Any]) -> RepositorySandbox:
    """A sandbox for ``spec``'s image; ``kind`` is the env's ``sandbox`` argument, which must be Docker.

    Raises:
        RepositoryBackendError: the env runs another backend (``local``, or a sandbox of its own).
    """
    if isinstance(kind, Sandbox):
        raise RepositoryBackendError(
            "a repository task needs its own container: pass sandbox='docker', not a sandbox object"
        )
    name = (kind or os.environ.get(ENV_VAR) or DEFAULT_KIND).lower()
    if name != "docker":
        raise RepositoryBackendError(
            f"repository tasks run only on the Docker backend: pass sandbox='docker' (not {name!r})"
        )
    options = {k: v for k, v in kwargs.items() if k not in ("image", "attach")}
    sandbox = RepositorySandbox(image=spec.image, repo_path=spec.path, python=spec.python, **options)
    if spec.dockerfile:  # the image from its Dockerfile folder, where it is missing or out of date
        from gym_pdb.sandbox.docker.task_image import build_task_image

        build_task_image(spec.dockerfile, spec.image, if_missing=True, client=sandbox.client)
    return sandbox


def mirror(content: Mapping[str, bytes], task: Task) -> dict[str, str]:
    """The tree's text files that the agent sees (UTF-8, at most ``MAX_MIRROR_BYTES``), by path."""
    files = {}
    for path, data in content.items():
        if len(data) > MAX_MIRROR_BYTES or b"\0" in data[:8192] or not task.is_visible(path):
            continue
        try:
            files[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return files


def load_tree(task: Task, sandbox: RepositorySandbox) -> None:
    """Fill ``task.files`` (and ``gold_files``) from a fresh checkout in ``sandbox``, once per task."""
    spec = repo_spec(task)
    if spec is None or (task.files and sandbox.pristine):
        return
    sandbox.checkout()
    content = sandbox.read_tree()
    if task.files:
        return
    task.files = mirror(content, task)
    if spec.gold_patch:
        task.gold_files = {p: t for p, t in apply(spec.gold_patch, task.files).items() if t is not None}
