"""Profiles: what the agent sees (tool schemas, observations, prompts), gym-pdb's own or SWE-PDB's.

A profile is a registry of tools (classes with the same names and arguments,
their own schemas and observations), the default tool set, the task prompt and
possibly the system prompt (else each agent's own); the reward
stays gym-pdb's verdict in every profile. ``PDBEnv(profile="swe-pdb")``
(``gym.make(ID, profile=...)``, ``gym-pdb eval --profile``, the GRPO
config's ``profile``) picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS, TOOLS, ToolRegistry

PROFILE_NAMES = ("gym-pdb", "swe-pdb")


@dataclass(frozen=True)
class Profile:
    """The tools of a profile (``tools``) and those offered unless told otherwise (``default_tools``)."""

    name: str
    tools: ToolRegistry
    default_tools: tuple[str, ...]
    extra_chars: frozenset[str] = frozenset()  # shown as they are, beyond printable ASCII
    prompt: Callable[[Task], str] | None = None  # the task prompt at reset (None: gym-pdb's, with the files)
    #: The system message, given the task, the agent's name, the working folder and the tools offered (None:
    #: the agent's own). An agent name the profile does not know gets the prompt that fits the tools.
    system_prompt: Callable[[Task, str, str, Sequence[str]], str] | None = None


def get_profile(name: str) -> Profile:
    """The profile ``name`` (``gym-pdb`` or ``swe-pdb``).

    Raises:
        ValueError: an unknown name.
    """
    if name == "gym-pdb":
        return Profile(name, TOOLS, DEFAULT_TOOLS)
    if name == "swe-pdb":
        from gym_pdb.profiles.swe_pdb.release import text_chars
        from gym_pdb.profiles.swe_pdb.tools import SWE_PDB_DEFAULT_TOOLS, SWE_PDB_TOOLS

        from gym_pdb.profiles.swe_pdb.prompt import instructions
        from gym_pdb.profiles.swe_pdb.system_prompt import system_prompt

        return Profile(name, SWE_PDB_TOOLS, SWE_PDB_DEFAULT_TOOLS, text_chars(), instructions, system_prompt)
    raise ValueError(f"profile must be one of {PROFILE_NAMES}, not {name!r}")
