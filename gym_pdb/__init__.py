"""gym-pdb: Gymnasium environments for debugging Python programs with pdb.

Importing the package registers one environment id per suite::

    import gymnasium as gym
    import gym_pdb

    env = gym.make("PDB-DebugBench-v0")
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from gym_pdb.tasks.suites import SUITES

__version__ = "0.1.0"

MAX_EPISODE_STEPS = 50

ENV_IDS = [suite.env_id for suite in SUITES.values()] + ["PDB-Demo-v0", "PDB-Custom-v0"]


def _register() -> None:
    for name in [*SUITES, "Demo", "Custom"]:
        env_id = f"PDB-{name}-v0"
        if env_id not in registry:
            register(
                id=env_id,
                entry_point="gym_pdb.env:PDBEnv",
                kwargs={"suite": name},
                max_episode_steps=MAX_EPISODE_STEPS,
                disable_env_checker=True,
            )


_register()


def __getattr__(name: str):
    if name == "PDBEnv":
        from gym_pdb.env import PDBEnv

        return PDBEnv
    raise AttributeError(name)


__all__ = ["ENV_IDS", "MAX_EPISODE_STEPS", "PDBEnv", "__version__"]
