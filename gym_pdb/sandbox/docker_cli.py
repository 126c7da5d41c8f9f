"""The Docker commands of the ``gym-pdb`` CLI: ``build-image`` and ``sandbox prune|ls``.

Wire them with :func:`add_commands` (argparse), or call the functions directly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence, TextIO


def docker_dir() -> Path:
    """The ``docker/`` folder (Dockerfile, build scripts): ``GYM_PDB_DOCKER_DIR`` or the checkout's."""
    candidates = []
    if os.environ.get("GYM_PDB_DOCKER_DIR"):
        candidates.append(Path(os.environ["GYM_PDB_DOCKER_DIR"]))
    candidates.append(Path(__file__).resolve().parents[2] / "docker")
    candidates.append(Path.cwd() / "docker")
    for path in candidates:
        if (path / "build-image.sh").is_file():
            return path
    raise FileNotFoundError(
        "cannot find the docker/ folder of gym-pdb (Dockerfile, build-image.sh): run from a source "
        "checkout or set GYM_PDB_DOCKER_DIR"
    )


def build_image(
    offline: bool = False,
    tier: str = "full",
    tag: str | None = None,
    if_missing: bool = False,
) -> int:
    """Build the sandbox image; return the build's exit status.

    offline: no container registry: the base image comes from Debian packages
        (debootstrap + ``docker import``; needs root), else ``python:3.11-slim``
        and PyPI.
    tier: ``full`` (torch CPU and opencv too) or ``core``.
    tag: image tag (``GYM_PDB_IMAGE``, else ``gym-pdb-sandbox:latest``).
    if_missing: skip when the tag exists and was built from the same recipe.
    """
    cmd = ["bash", str(docker_dir() / "build-image.sh"), "--tier", tier]
    if offline:
        cmd.append("--offline")
    if if_missing:
        cmd.append("--if-missing")
    if tag:
        cmd += ["--tag", tag]
    return subprocess.call(cmd)


def build_from_dockerfile(folder: str, tag: str | None, if_missing: bool = False, out: TextIO | None = None) -> int:
    """Build a task image from the Dockerfile in ``folder`` on the local daemon (no pull); exit status."""
    from gym_pdb.sandbox.base import SandboxError
    from gym_pdb.sandbox.docker.task_image import build_task_image

    if not tag:
        print("gym-pdb build-image --dockerfile needs --tag", file=sys.stderr)
        return 2
    try:
        built = build_task_image(folder, tag, if_missing=if_missing)
    except SandboxError as exc:
        print(f"gym-pdb build-image: {exc}", file=sys.stderr)
        return 1
    print(f"{tag}: {'built' if built else 'up to date'}", file=out or sys.stdout)
    return 0


def sandbox_prune(all: bool = False, out: TextIO | None = None) -> int:
    """Remove the sandboxes whose owner process is gone (every one with ``all``): local folders
    and processes, then Docker containers; exit status."""
    from gym_pdb.sandbox.base import SandboxError
    from gym_pdb.sandbox.docker import prune
    from gym_pdb.sandbox.local_housekeeping import prune as prune_local

    out = out or sys.stdout
    local = prune_local(all=all, log=lambda msg: print(msg, file=out))
    print(f"{len(local)} local sandbox(es) pruned", file=out)
    try:
        done = prune(all=all, log=lambda msg: print(msg, file=out))
    except (SandboxError, Exception) as exc:  # noqa: BLE001 - a CLI reports, it does not trace
        print(f"gym-pdb sandbox prune: {exc}", file=sys.stderr)
        return 1
    print(f"{len(done)} container(s) pruned", file=out)
    return 0


def sandbox_ls(out: TextIO | None = None) -> int:
    """List gym-pdb containers (own and pool) with owner, state and whether the owner lives."""
    from gym_pdb.sandbox.docker import LABEL_CREATED, LABEL_OWNER, POOL_LABEL, list_containers
    from gym_pdb.sandbox.owner import owner_alive

    out = out or sys.stdout
    try:
        containers = list_containers()
    except Exception as exc:  # noqa: BLE001
        print(f"gym-pdb sandbox ls: {exc}", file=sys.stderr)
        return 1
    for c in containers:
        labels = c.labels or {}
        if POOL_LABEL in labels:
            kind, owner, alive = f"pool={labels[POOL_LABEL]}", "-", ""
        else:
            owner = labels.get(LABEL_OWNER, "?")
            state = owner_alive(owner)
            kind, alive = "own", {True: "owner alive", False: "owner gone", None: "other host"}[state]
        print(f"{c.name}\t{c.status}\t{kind}\t{labels.get(LABEL_CREATED, '')}\t{owner}\t{alive}", file=out)
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``build-image`` and ``sandbox {prune,ls}`` to a CLI; each parser sets ``func(args) -> int``."""
    p = subparsers.add_parser("build-image", help="build the Docker sandbox image")
    p.add_argument("--offline", action="store_true", help="no container registry: base image from Debian packages")
    p.add_argument("--tier", choices=("full", "core"), default=os.environ.get("GYM_PDB_TIER", "full"))
    p.add_argument("--tag", default=None, help="image tag (default: $GYM_PDB_IMAGE or gym-pdb-sandbox:latest)")
    p.add_argument("--if-missing", action="store_true", help="skip if the image exists and is up to date")
    p.add_argument(
        "--dockerfile", metavar="DIR", default=None,
        help="build a task image (a repository task's) from the Dockerfile in DIR instead; needs --tag",
    )  # fmt: skip
    p.set_defaults(
        func=lambda a: build_from_dockerfile(a.dockerfile, a.tag, a.if_missing)
        if a.dockerfile
        else build_image(offline=a.offline, tier=a.tier, tag=a.tag, if_missing=a.if_missing)
    )

    s = subparsers.add_parser("sandbox", help="manage Docker sandbox containers")
    sub = s.add_subparsers(dest="sandbox_command", required=True)
    pr = sub.add_parser("prune", help="remove containers of dead processes, free their pool claims")
    pr.add_argument("--all", action="store_true", help="every gym-pdb container, owner alive or not")
    pr.set_defaults(func=lambda a: sandbox_prune(all=a.all))
    ls = sub.add_parser("ls", help="list gym-pdb containers")
    ls.set_defaults(func=lambda a: sandbox_ls())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gym_pdb.sandbox.docker_cli build-image|sandbox ...`` (before the main CLI has them)."""
    parser = argparse.ArgumentParser(prog="gym-pdb")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
