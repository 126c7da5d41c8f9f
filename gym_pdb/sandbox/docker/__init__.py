"""The Docker sandbox: task code in a long-lived, locked-down container.

One container per sandbox, created at first use (or claimed from a pool that
``docker compose`` started: attach mode) and reused across episodes:
``reset_workspace`` empties the workspace and lays the task's files (a small
set in one line to the root control shell, a larger one with the Docker API's
archive upload); it starts no new container.

Everything goes through the Docker API (the ``docker`` package), never the
``docker`` CLI: files with ``put_archive`` (or a tar through an exec's stdin
where the archive API cannot reach) and reads through a persistent root
control shell; python runs as requests on the warm interpreter's exec, other
commands and the pdb session over exec sockets of their own, read up to a
marker, nothing sleeping. A container that dies (OOM, crash, killed from
outside) is detected: the operation raises ``SandboxError``, and the
next ``reset_workspace`` makes a new container.

The layers, lowest first (the first two know nothing of containers, and
serve any exec-based backend):

- :mod:`.transport`: an exec's hijacked socket, its stream frames, reading to a marker;
- :mod:`.protocol`: the shell scripts run in the container and what they report;
- :mod:`.container`: one container: execs, the root control shell, uploads, death;
- :mod:`.housekeeping`: labels, release, ``list_containers`` and ``prune``;
- :mod:`.lifecycle`: the container spec and its isolation; create, or claim from a pool;
- :mod:`.warm`: the container's warm interpreter: runs on its stream, and the connectors that reach it;
- :mod:`.process` and :mod:`.sandbox`: :class:`DockerProcess` and :class:`DockerSandbox`.
"""

from __future__ import annotations

from gym_pdb.sandbox.docker.housekeeping import LABEL, LABEL_CREATED, LABEL_OWNER, POOL_LABEL, list_containers, prune
from gym_pdb.sandbox.docker.lifecycle import DEFAULT_IMAGE, ROOT_CAPS, default_image
from gym_pdb.sandbox.docker.process import DockerProcess
from gym_pdb.sandbox.docker.protocol import CONTROL_WRITE_MAX, SUPPORT_DIR, WARM_FIFO, WORKDIR
from gym_pdb.sandbox.docker.sandbox import DockerSandbox

__all__ = [
    "CONTROL_WRITE_MAX",
    "DEFAULT_IMAGE",
    "LABEL",
    "LABEL_CREATED",
    "LABEL_OWNER",
    "POOL_LABEL",
    "ROOT_CAPS",
    "SUPPORT_DIR",
    "WARM_FIFO",
    "WORKDIR",
    "DockerProcess",
    "DockerSandbox",
    "default_image",
    "list_containers",
    "prune",
]
