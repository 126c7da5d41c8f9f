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
                entry_point="gym_pdb:make_env",
                kwargs={"suite": name},
                max_episode_steps=MAX_EPISODE_STEPS,
                disable_env_checker=True,
            )


_register()


def make_env(remote=None, **kwargs):
    """The entry point of every id: a :class:`PDBEnv`, or with ``remote=URL`` an env served there.

    ``gym.make("PDB-DebugBench-v0", remote="ws://host:8000")`` gives a
    :class:`gym_pdb.serve.remote.RemotePDBEnv` with the same API and spaces,
    whose episodes run on a ``gym-pdb serve`` server (several URLs: it moves
    to the next when one is gone).
    """
    if remote:
        from gym_pdb.serve.remote import RemotePDBEnv

        return RemotePDBEnv(remote=remote, **kwargs)
    from gym_pdb.env import PDBEnv

    return PDBEnv(**kwargs)


def __getattr__(name: str):
    if name == "PDBEnv":
        from gym_pdb.env import PDBEnv

        return PDBEnv
    raise AttributeError(name)


__all__ = ["ENV_IDS", "MAX_EPISODE_STEPS", "PDBEnv", "__version__", "make_env"]
