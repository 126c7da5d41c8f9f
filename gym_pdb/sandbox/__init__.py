"""Sandboxes: where task code runs (local processes, Docker containers, or a kind you register)."""

from __future__ import annotations

from gym_pdb.sandbox.base import ExecResult, InteractiveProcess, Limits, Sandbox, SandboxError
from gym_pdb.sandbox.kinds import SANDBOX_KINDS, make_sandbox, register_sandbox, sandbox_kinds

__all__ = [
    "ExecResult", "InteractiveProcess", "Limits", "Sandbox", "SandboxError",
    "SANDBOX_KINDS", "make_sandbox", "register_sandbox", "sandbox_kinds",
]  # fmt: skip
