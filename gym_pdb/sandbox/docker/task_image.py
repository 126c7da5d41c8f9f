"""Build a task's image from a Dockerfile folder, with no registry: ``gym-pdb build-image --dockerfile DIR``.

The build runs on the local daemon and never pulls (``FROM`` names an image
already there, such as ``gym-pdb-sandbox:latest``); whatever the Dockerfile
fetches (pip, apt) comes from the build's own network or from files put in
the folder beforehand. The image is labelled with a hash of the folder's
content, so that a second build of the same folder is skipped
(``if_missing``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from gym_pdb.sandbox.base import SandboxError
from gym_pdb.sandbox.docker.transport import docker_sdk

RECIPE_LABEL = "gym-pdb.recipe"


def context_hash(folder: str | os.PathLike[str]) -> str:
    """A sha256 of every file of the build folder (names, modes and bytes), in a stable order."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + oct(path.stat().st_mode & 0o777).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def image_recipe(client: Any, tag: str) -> str | None:
    """The recipe hash of the image ``tag``; None if there is no such image (or it has none)."""
    docker = docker_sdk()
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return (image.labels or {}).get(RECIPE_LABEL)


def build_task_image(folder: str | os.PathLike[str], tag: str, if_missing: bool = False, client: Any = None) -> bool:
    """Build the Dockerfile of ``folder`` as ``tag``; False when skipped (``if_missing`` and the same recipe).

    Raises:
        SandboxError: the build failed (the log's end is in the message).
    """
    docker = docker_sdk()
    client = client or docker.from_env(timeout=600)
    if not (Path(folder) / "Dockerfile").is_file():
        raise SandboxError(f"no Dockerfile in {folder}")
    recipe = context_hash(folder)
    if if_missing and image_recipe(client, tag) == recipe:
        return False
    try:
        old = client.images.get(tag).id
    except docker.errors.ImageNotFound:
        old = None
    try:
        image, _ = client.images.build(
            path=str(folder), tag=tag, pull=False, rm=True, forcerm=True, labels={RECIPE_LABEL: recipe}
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(chunk.get("stream", "")) for chunk in exc.build_log)[-2000:]
        raise SandboxError(f"building {tag} from {folder} failed: {exc}\n{log}") from exc
    except docker.errors.APIError as exc:
        raise SandboxError(f"building {tag} from {folder} failed: {exc}") from exc
    if old is not None and old != image.id:
        try:  # the build it replaces, untagged now; kept while a container uses it
            client.images.remove(old, noprune=False)
        except docker.errors.APIError:
            pass
    return True
