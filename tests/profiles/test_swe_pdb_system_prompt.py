"""The `swe-pdb` profile's system prompt against the one SWE-PDB's own agents built, and where it reaches the model.

``data/swe_pdb_oracle.json`` holds, per recorded task, the system message of
SWE-PDB's ``DebugAgent`` and ``RewriteAgent`` for a fresh env of that task
(``benchmarks/record_swe_pdb.py``) and that env's working folder; both sides'
folders become ``<workdir>`` (:mod:`gym_pdb.profiles.swe_pdb.normalize`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gym_pdb.agents.base import Agent, Turn
from gym_pdb.agents.expert import ExpertAgent
from gym_pdb.agents.loop import run_episode
from gym_pdb.env import PDBEnv
from gym_pdb.profiles.swe_pdb.normalize import normalize

RECORDING = json.loads((Path(__file__).parent / "data" / "swe_pdb_oracle.json").read_text())
#: Each SWE-PDB agent's tools (its run configs'), which gym-pdb's env offers it.
TOOLS = {"debug_agent": ("grep", "pdb", "view", "rewrite", "eval"), "rewrite_agent": ("grep", "view", "rewrite", "eval")}
CASES = [(e, agent) for e in RECORDING for agent in TOOLS]


def recorded(episode: dict[str, Any], agent: str) -> str:
    theirs = episode["system_prompts"][agent]
    return normalize(theirs["content"], theirs["workdir"])


def ours(env: PDBEnv, text: str) -> str:
    assert env.sandbox is not None
    return normalize(text, env.sandbox.info.workdir)


class Stops(Agent):
    """An agent that ends the episode at its first turn: what the loop put in the trajectory is all there is."""

    def __init__(self, name: str, tools: tuple[str, ...]) -> None:
        self.name, self.tools = name, tools  # type: ignore[misc]

    def system_prompt(self) -> str:
        return "the agent's own"

    def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Turn:
        return Turn(stop=True)


@pytest.mark.parametrize(("episode", "agent"), CASES, ids=[f"{e['suite']}-{a}" for e, a in CASES])
def test_system_prompt_is_swe_pdbs(episode, agent, release):
    env = PDBEnv(suite=episode["suite"], sandbox="local", profile="swe-pdb", tools=TOOLS[agent])
    try:
        env.reset(options={"task_id": episode["task"]})
        assert ours(env, env.system_prompt(agent)) == recorded(episode, agent)
    finally:
        env.close()


@pytest.mark.parametrize(
    ("index", "agent", "kind"),
    [
        (1, ExpertAgent(), "debug_agent"),  # the scripted expert debugs with pdb: SWE-PDB's debug agent's prompt
        (0, Stops("debug_agent", TOOLS["debug_agent"]), "debug_agent"),  # MiniNightmare's config adds auto_list
        (0, Stops("rewrite_agent", TOOLS["rewrite_agent"]), "rewrite_agent"),
    ],
    ids=["expert", "debug_agent", "rewrite_agent"],
)
def test_the_episode_loop_sends_it(index, agent, kind, release):
    episode = RECORDING[index]
    env = PDBEnv(suite=episode["suite"], sandbox="local", profile="swe-pdb", tools=TOOLS[kind])
    try:
        played = run_episode(env, agent, task_id=episode["task"], max_steps=1)
        assert played.error == "" and played.messages[0]["role"] == "system"
        assert ours(env, played.messages[0]["content"]) == recorded(episode, kind)
    finally:
        env.close()


def test_the_default_profile_keeps_the_agents_own():
    env = PDBEnv(suite="Demo", sandbox="local")
    try:
        for agent in (ExpertAgent(), Stops("debug_agent", TOOLS["debug_agent"])):
            played = run_episode(env, agent, max_steps=1, seed=0)
            assert played.error == "" and played.messages[0] == {"role": "system", "content": agent.system_prompt()}
        assert env.system_prompt("debug_agent") is None
    finally:
        env.close()
