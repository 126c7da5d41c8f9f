"""gym-pdb: Gymnasium environments for debugging Python programs with pdb.

Importing the package registers one environment id per task source::

    import gymnasium as gym
    import gym_pdb

    env = gym.make("PDB-DebugBench-v0")

The ids come from the registry of task sources (:mod:`gym_pdb.tasks.registry`):
a source registered later, by another package, gets its ``PDB-<name>-v0`` too.
"""

from __future__ import annotations

from typing import Any

from gymnasium.envs.registration import register, registry

from gym_pdb.tasks import suites as _builtin_sources  # noqa: F401  (registers the built-in task sources)
from gym_pdb.tasks.registry import TASK_SOURCES, SourceSpec, on_register

__version__ = "0.1.0"

MAX_EPISODE_STEPS = 50

#: The ids of the built-in task sources (``gymnasium.registry`` also holds those registered later).
ENV_IDS = [spec.env_id for spec in TASK_SOURCES.values()]


def _register_env(spec: SourceSpec) -> None:
    """Register ``PDB-<name>-v0`` for a task source, once."""
    if spec.env_id not in registry:
        register(
            id=spec.env_id,
            entry_point="gym_pdb.env:PDBEnv",
            kwargs={"suite": spec.name},
            max_episode_steps=MAX_EPISODE_STEPS,
            disable_env_checker=True,
        )


on_register(_register_env)


def __getattr__(name: str) -> Any:
    if name == "PDBEnv":
        from gym_pdb.env import PDBEnv

        return PDBEnv
    raise AttributeError(name)


__all__ = ["ENV_IDS", "MAX_EPISODE_STEPS", "PDBEnv", "__version__"]
