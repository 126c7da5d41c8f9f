"""The registry of sandbox kinds: a name (``sandbox="local"``) and the factory that makes one.

``make_sandbox``, ``PDBEnv(sandbox=...)``, the CLI's ``--sandbox`` choices and
the configs all read it, so a new kind is a module with a
:class:`~gym_pdb.sandbox.base.Sandbox` subclass plus one
:func:`register_sandbox` line (below for the built-in kinds, or in your own
package)::

    register_sandbox("firecracker", FirecrackerSandbox)
    gym.make("PDB-Demo-v0", sandbox="firecracker")

The built-in factories import their backend when first called: importing
gym_pdb costs neither the Docker client nor the local sandbox's support code.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from gym_pdb.sandbox.base import Sandbox

#: Makes a sandbox from the keyword arguments of ``make_sandbox`` (``limits``, ``warm``, ``image``...).
SandboxFactory = Callable[..., Sandbox]
ENV_VAR = "GYM_PDB_SANDBOX"
DEFAULT_KIND = "local"

#: The registered kinds by name, in the order they were registered.
SANDBOX_KINDS: dict[str, SandboxFactory] = {}
_lock = threading.Lock()


def register_sandbox(name: str, factory: SandboxFactory) -> None:
    """Register a sandbox kind (names are lower case); the same registration twice is a no-op."""
    key = name.lower()
    with _lock:
        known = SANDBOX_KINDS.get(key)
        if known is not None and known is not factory:
            raise ValueError(f"a sandbox kind named {key!r} is already registered")
        SANDBOX_KINDS[key] = factory


def sandbox_kinds() -> tuple[str, ...]:
    """The registered kinds, in the order they were registered (``local`` and ``docker`` first)."""
    with _lock:
        return tuple(SANDBOX_KINDS)


def sandbox_factory(kind: str) -> SandboxFactory:
    """The factory of ``kind``; a ValueError naming the registered kinds if there is none."""
    with _lock:
        factory = SANDBOX_KINDS.get(kind.lower())
    if factory is None:
        raise ValueError(f"unknown sandbox {kind!r}; choose one of {', '.join(sandbox_kinds())}")
    return factory


def make_sandbox(kind: str | None = None, **kwargs: Any) -> Sandbox:
    """Create a sandbox: ``kind`` or ``GYM_PDB_SANDBOX`` (``local`` by default)."""
    return sandbox_factory(kind or os.environ.get(ENV_VAR) or DEFAULT_KIND)(**kwargs)


def _local(**kwargs: Any) -> Sandbox:
    from gym_pdb.sandbox.local import LocalSandbox

    return LocalSandbox(**kwargs)


def _docker(**kwargs: Any) -> Sandbox:
    from gym_pdb.sandbox.docker import DockerSandbox

    return DockerSandbox(**kwargs)


register_sandbox("local", _local)
register_sandbox("docker", _docker)
