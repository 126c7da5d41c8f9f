"""Leaving nothing behind: release a sandbox's container, list and prune those of dead processes.

Every container and workspace volume a sandbox makes carries :data:`LABEL`,
its owner process (host, pid, start time) and its creation time, so that a
process killed before it could clean up leaves nothing that
``gym-pdb sandbox prune`` cannot find. Pool containers (:data:`POOL_LABEL`)
are never removed here: their claims are freed and their files emptied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.container import Container
from gym_pdb.sandbox.docker.transport import docker_sdk
from gym_pdb.sandbox.owner import owner_alive

LABEL = "gym-pdb.sandbox"  # every container (and workspace volume) made here
LABEL_OWNER = "gym-pdb.owner"  # host:pid:start-time of the creating process
LABEL_CREATED = "gym-pdb.created"
POOL_LABEL = "gym-pdb.pool"  # containers of a compose pool (attach mode)


def remove_container(client: Any, cid: str) -> None:
    """Remove a container and its anonymous volumes, if it (and the daemon) is still there."""
    try:
        client.api.remove_container(cid, v=True, force=True)
    except Exception:  # noqa: BLE001 - already gone, or the daemon is
        pass


def release(c: Container) -> None:
    """Remove an owned container and its volumes; clean and unclaim an attached one.

    Runs at ``close()``, at garbage collection and at the interpreter's exit
    (the sandbox's finalizer), so it needs nothing but the record and never raises.
    """
    if c.admin is not None:
        c.admin.close()  # the control shell reads end of file and exits
    if c.warm is not None:
        c.warm.close()
    c.admin = c.warm = None
    if not c.attached:
        remove_container(c.client, c.id)
        for volume in c.volumes:
            try:
                c.client.api.remove_volume(volume, force=True)
            except Exception:  # noqa: BLE001 - removed with the container (the usual case)
                pass
        return
    if c.dead:
        return
    try:
        api = c.client.api
        exec_id = api.exec_create(c.id, ["sh", "-c", protocol.RELEASE], user="0:0")["Id"]
        api.exec_start(exec_id)
    except Exception:  # noqa: BLE001 - best effort: prune frees stale claims
        pass


def list_containers(client: Any = None, include_pool: bool = True) -> list[Any]:
    """Containers made by gym-pdb sandboxes (and, with ``include_pool``, pool containers).

    Args:
        client: a ``docker.DockerClient`` (default: ``docker.from_env()``).
        include_pool: list the pool containers too.

    Returns:
        ``docker.models.containers.Container`` objects, running or not.
    """
    client = client or docker_sdk().from_env()
    found = {c.id: c for c in client.containers.list(all=True, filters={"label": LABEL})}
    if include_pool:
        for c in client.containers.list(all=True, filters={"label": POOL_LABEL}):
            found.setdefault(c.id, c)
    return list(found.values())


def prune(all: bool = False, client: Any = None, log: Callable[[str], None] | None = None) -> list[str]:
    """Remove the sandbox containers whose owner process is gone (every one with ``all``).

    Containers of other hosts are kept unless ``all``. Pool containers
    (``gym-pdb.pool``) are not removed: their claims by dead processes (every
    claim with ``all``) are released and their workspaces emptied. Unused
    gym-pdb workspace volumes of dead owners (of any owner with ``all``) are removed too.

    Args:
        all: act on every gym-pdb container, owner alive or not.
        client: a ``docker.DockerClient`` (default: ``docker.from_env()``).
        log: called with a line for each thing done.

    Returns:
        The names of the containers removed or released.
    """
    docker = docker_sdk()
    client = client or docker.from_env()
    log = log or (lambda msg: None)
    done: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels or {}
        if POOL_LABEL in labels:
            continue
        alive = owner_alive(labels.get(LABEL_OWNER, ""))
        if all or alive is False:
            remove_container(client, container.id)
            log(f"removed {container.name} (owner {labels.get(LABEL_OWNER, '?')})")
            done.append(container.name)
    for container in client.containers.list(filters={"label": POOL_LABEL, "status": "running"}):
        try:
            argv = ["sh", "-c", protocol.CLAIM_OWNER_OR_NOTHING]
            exec_id = client.api.exec_create(container.id, argv, user="0:0")["Id"]
            owner = client.api.exec_start(exec_id).decode(errors="replace").strip()
        except docker.errors.APIError:
            continue
        if not owner:
            continue  # idle
        if all or owner_alive(owner) is False:
            release(Container(client, container.id, container.name, 0, attached=True))
            log(f"released {container.name} (claimed by {owner or '?'})")
            done.append(container.name)
    # Workspace volumes of containers removed without them (a volume in use refuses to go).
    try:
        volumes = client.api.volumes(filters={"label": LABEL}).get("Volumes") or []
    except docker.errors.APIError:
        volumes = []
    for volume in volumes:
        owner = (volume.get("Labels") or {}).get(LABEL_OWNER)
        if not all and owner and owner_alive(owner) is not False:
            continue  # its live owner removes it (one without the label predates them: removed if unused)
        try:
            client.api.remove_volume(volume["Name"])
            log(f"removed volume {volume['Name'][:12]}")
        except docker.errors.APIError:
            pass
    return done
