"""Sandboxes of a server replica: labelled with the replica, removed when it is gone.

A replica of ``gym-pdb serve`` in a Swarm service (``docker/stack.yaml``)
makes its sandboxes on its node's Docker engine. Each sandbox container
carries ``gym-pdb.replica=<id>``, the replica's Swarm task id (the stack sets
``GYM_PDB_REPLICA={{.Task.ID}}``). A replica that dies (killed, OOM, node
drained) cannot remove its sandboxes; the replicas that survive on that
engine can, and so can its successor when Swarm restarts it there: a
sandbox whose replica's task no longer runs a container on this engine is
removed. Outside Swarm (Kubernetes' pods are not containers of this engine)
a replica only removes, at its start, sandboxes labelled with its own id,
left by a predecessor of the same name (a StatefulSet's pod).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

REPLICA_LABEL = "gym-pdb.replica"
REPLICA_VARIABLE = "GYM_PDB_REPLICA"
SWARM_TASK_LABEL = "com.docker.swarm.task.id"

logger = logging.getLogger(__name__)


def replica_id() -> str | None:
    """This server's replica id (``GYM_PDB_REPLICA``), or None when it is no replica."""
    return os.environ.get(REPLICA_VARIABLE) or None


def replica_labels(replica: str | None = None) -> dict[str, str]:
    """The labels that tie a sandbox container to this replica."""
    replica = replica or replica_id()
    return {REPLICA_LABEL: replica} if replica else {}


def running_swarm_tasks(client: Any) -> set[str]:
    """Swarm task ids with a running container on this engine."""
    running = client.api.containers(filters={"label": SWARM_TASK_LABEL, "status": "running"})
    return {(c.get("Labels") or {}).get(SWARM_TASK_LABEL, "") for c in running}


def reap_dead_replicas(
    client: Any, me: str | None, at_start: bool = False, log: Callable[[str], None] | None = None
) -> list[str]:
    """Remove the sandbox containers of replicas that are gone; returns their names.

    ``at_start``: also those labelled ``me`` (a predecessor's, since this
    replica has made none yet). Others' are judged only when this replica is
    itself a Swarm task here: then a replica is alive iff its task runs a
    container on this engine.
    """
    log = log or logger.info
    live = running_swarm_tasks(client)
    judge_others = me is not None and me in live
    removed = []
    # The engine's plain list (no inspect per container): containers come and go while we look.
    for container in client.api.containers(all=True, filters={"label": REPLICA_LABEL}):
        owner = (container.get("Labels") or {}).get(REPLICA_LABEL, "")
        name = (container.get("Names") or [container["Id"][:12]])[0].lstrip("/")
        if owner == me:
            dead = at_start
        else:
            dead = judge_others and owner not in live
        if not dead:
            continue
        try:
            client.api.remove_container(container["Id"], force=True, v=True)
        except Exception as exc:  # noqa: BLE001 - gone already, or another replica got there first
            logger.debug("could not remove %s: %s", name, exc)
            continue
        removed.append(name)
        log(f"removed sandbox {name} of replica {owner}, which is gone")
    return removed


__all__ = ["REPLICA_LABEL", "REPLICA_VARIABLE", "reap_dead_replicas", "replica_id", "replica_labels"]
