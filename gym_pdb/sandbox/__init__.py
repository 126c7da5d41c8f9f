"""Sandboxes: where task code runs (local processes or Docker containers)."""

from __future__ import annotations

import os
from typing import Any

from gym_pdb.sandbox.base import ExecResult, InteractiveProcess, Limits, Sandbox, SandboxError

SANDBOX_KINDS = ("local", "docker")


def make_sandbox(kind: str | None = None, **kwargs: Any) -> Sandbox:
    """Create a sandbox: ``kind`` or ``GYM_PDB_SANDBOX`` (``local`` by default)."""
    kind = (kind or os.environ.get("GYM_PDB_SANDBOX") or "local").lower()
    if kind == "local":
        from gym_pdb.sandbox.local import LocalSandbox

        return LocalSandbox(**kwargs)
    if kind == "docker":
        from gym_pdb.sandbox.docker import DockerSandbox

        return DockerSandbox(**kwargs)
    raise ValueError(f"unknown sandbox {kind!r}; choose one of {', '.join(SANDBOX_KINDS)}")


__all__ = ["ExecResult", "InteractiveProcess", "Limits", "Sandbox", "SandboxError", "make_sandbox", "SANDBOX_KINDS"]
