"""Getting a sandbox container: create one from the spec, or claim an idle one of a compose pool.

The spec is where the isolation is: no network, memory (no swap), CPU and
pids limits, a read-only root filesystem, size-limited tmpfs volumes for the
workspace (or a disk-backed local volume, ``workspace_volume``) and the support scripts, a tmpfs /tmp, ``no-new-privileges``, and
every capability dropped but :data:`ROOT_CAPS`. Task code runs as a fresh
unprivileged uid per container, so that the ``nproc`` limit is per sandbox.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gym_pdb.sandbox.base import Limits, SandboxError
from gym_pdb.sandbox.docker import protocol
from gym_pdb.sandbox.docker.container import Container, make_tar
from gym_pdb.sandbox.docker.housekeeping import LABEL, LABEL_CREATED, LABEL_OWNER, release, remove_container
from gym_pdb.sandbox.docker.protocol import CLAIM_OWNER, SUPPORT_DIR, WORKDIR
from gym_pdb.sandbox.docker.transport import docker_sdk
from gym_pdb.sandbox.owner import owner_alive, owner_token

DEFAULT_IMAGE = "gym-pdb-sandbox:latest"
UID_RANGE = (100_000, 1_000_000)
PIDS_HEADROOM = 64  # container pids beyond the sandbox uid's nproc: room for control execs
# Capabilities left in the container's bounding set, for its root control shell
# only (kill the sandbox uid's processes, empty its files, switch to it). Task
# code runs as an unprivileged uid with no-new-privileges: its capability sets
# are empty and it can gain none. (A privileged exec cannot add capabilities to
# a container started with cap_drop=ALL, so these must be there from the start.)
ROOT_CAPS = ("KILL", "DAC_OVERRIDE", "FOWNER", "CHOWN", "SETUID", "SETGID")


def default_image() -> str:
    """The sandbox image: ``GYM_PDB_IMAGE``, else :data:`DEFAULT_IMAGE`."""
    return os.environ.get("GYM_PDB_IMAGE") or DEFAULT_IMAGE


def random_uid() -> int:
    """A uid for task code that no other sandbox is likely to use."""
    return random.SystemRandom().randrange(*UID_RANGE)


def support_tar(files: Mapping[str, bytes]) -> bytes:
    """The support scripts as a tar of root's read-only files."""
    return make_tar([(name, content, 0o644, 0) for name, content in sorted(files.items())])


@dataclass(frozen=True)
class ContainerSpec:
    """What a sandbox container is made of, and its limits."""

    image: str
    limits: Limits
    cpus: float = 1.0
    workspace_bytes: int = 512 * 1024**2
    tmp_bytes: int = 256 * 1024**2
    labels: Mapping[str, str] = field(default_factory=dict)
    #: The workspace on disk: the driver options of a local volume for it (``{}``: a folder under Docker's
    #: data root, with no size quota). None: a tmpfs of ``workspace_bytes`` (counted against the memory limit).
    workspace_volume: Mapping[str, str] | None = None

    def create_kwargs(self, name: str) -> dict[str, Any]:
        """The keyword arguments of ``client.containers.create`` for a container called ``name``."""
        from docker.types import DriverConfig, Mount, Ulimit

        lim = self.limits
        labels = {
            LABEL: "1",
            LABEL_OWNER: owner_token(),
            LABEL_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **self.labels,
        }

        # The volumes carry the container's own labels, so that housekeeping finds those a dead process left.
        volume_labels = {k: labels[k] for k in (LABEL, LABEL_OWNER, LABEL_CREATED)}

        def tmpfs_volume(target: str, size: int, mode: str) -> Mount:
            # A volume, not a --tmpfs mount: the archive API cannot reach the latter on Docker < 25.
            opts = {"type": "tmpfs", "device": "tmpfs", "o": f"size={int(size)},mode={mode},nosuid,nodev"}
            return Mount(target, None, type="volume", labels=volume_labels, driver_config=DriverConfig("local", opts))

        if self.workspace_volume is None:
            workspace = tmpfs_volume(WORKDIR, self.workspace_bytes, "1777")
        else:  # anonymous, so removed with the container (v=True); empty: nothing of the image copied in
            config = DriverConfig("local", dict(self.workspace_volume))
            workspace = Mount(WORKDIR, None, type="volume", no_copy=True, labels=volume_labels, driver_config=config)

        ulimits = [Ulimit(name="core", soft=0, hard=0)]
        for ulimit, value in (
            ("nproc", lim.processes),
            ("nofile", lim.open_files),
            ("fsize", lim.file_size_bytes),
            ("cpu", lim.cpu_seconds),
        ):
            if value:
                ulimits.append(Ulimit(name=ulimit, soft=int(value), hard=int(value)))
        return {
            "name": name,
            "user": "0:0",  # only tini and sleep; task code runs as the sandbox uid, never root
            "labels": labels,
            "detach": True,
            "hostname": "sandbox",
            "working_dir": WORKDIR,
            "network_mode": "bridge" if lim.network else "none",
            "mem_limit": int(lim.memory_bytes) if lim.memory_bytes else None,
            "memswap_limit": int(lim.memory_bytes) if lim.memory_bytes else None,
            "nano_cpus": int(self.cpus * 1e9) if self.cpus else None,
            "pids_limit": int(lim.processes) + PIDS_HEADROOM if lim.processes else None,
            "cap_drop": ["ALL"],
            "cap_add": list(ROOT_CAPS),
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={int(self.tmp_bytes)},mode=1777"},
            "mounts": [
                workspace,
                tmpfs_volume(SUPPORT_DIR, 16 * 1024**2, "0755"),
            ],
            "ulimits": ulimits,
        }


def create(client: Any, spec: ContainerSpec, uid: int, support: bytes) -> Container:
    """Create and start a container, and upload the support scripts (the tar ``support``) into it.

    Raises:
        SandboxError: the image is missing, or Docker could not create or start it
            (a container that was created is removed).
    """
    docker = docker_sdk()
    name = f"gym-pdb-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        container = client.containers.create(spec.image, **spec.create_kwargs(name))
    except docker.errors.ImageNotFound as exc:
        raise SandboxError(
            f"the sandbox image {spec.image} is missing: build it with `gym-pdb build-image` "
            "(or `gym-pdb build-image --offline` without a registry)"
        ) from exc
    except docker.errors.APIError as exc:
        raise SandboxError(f"cannot create a sandbox container from {spec.image}: {exc}") from exc
    c = Container(client, container.id, name, uid, attached=False, archive=(WORKDIR, SUPPORT_DIR))
    try:
        container.start()
        mounts = client.api.inspect_container(container.id).get("Mounts") or []
        c.volumes = [m["Name"] for m in mounts if m.get("Type") == "volume" and m.get("Name")]
        c.upload(SUPPORT_DIR, support, clear=False)
        if spec.workspace_volume is not None:  # a new local volume's folder is root's, mode 0755
            c.control(f"chmod 1777 {WORKDIR}")
    except BaseException as exc:
        remove_container(client, container.id)
        if isinstance(exc, docker.errors.APIError):
            raise SandboxError(f"cannot start a sandbox container from {spec.image}: {exc}") from exc
        raise
    return c


def claim(client: Any, selector: str, new_uid: Callable[[], int], support: bytes) -> Container:
    """Claim an idle running container labelled ``selector`` (or one claimed by a dead process of this host).

    The claimed container is scrubbed of every process and file of its last
    claimant, and gets the support scripts (the tar ``support``).

    Raises:
        SandboxError: no container could be claimed.
    """
    docker = docker_sdk()
    try:
        candidates = client.containers.list(filters={"label": selector, "status": "running"})
    except docker.errors.APIError as exc:
        raise SandboxError(f"cannot list the pool containers ({selector}): {exc}") from exc
    random.shuffle(candidates)
    token = owner_token()
    for stale_pass in (False, True):
        for container in candidates:
            archive = [
                m.get("Destination")
                for m in container.attrs.get("Mounts", [])
                if m.get("Type") in ("volume", "bind") and m.get("Destination") in (WORKDIR, SUPPORT_DIR)
            ]
            c = Container(client, container.id, container.name, new_uid(), attached=True, archive=archive)
            try:
                if stale_pass:
                    owner = c.collect(["cat", CLAIM_OWNER], user="0:0")
                    dead = owner.text.strip()
                    if owner.exit_code != 0 or owner_alive(dead) is not False:
                        continue
                    got = c.collect(protocol.steal(dead, token), user="0:0")
                else:
                    got = c.collect(protocol.claim(token), user="0:0")
            except SandboxError:
                continue
            if got.exit_code != 0:
                continue
            try:
                c.scrub(kill_all=True)
                c.upload(SUPPORT_DIR, support, clear=False)
            except BaseException:
                release(c)
                raise
            return c
    raise SandboxError(
        f"no idle container in the pool ({selector}, {len(candidates)} running): start more with "
        "`docker-compose -f docker/compose.yaml up -d --scale sandbox=N`, or run `gym-pdb sandbox prune` "
        "to free the claims of dead processes"
    )
