"""Agents that play PDBEnv episodes, the loop that runs them, and their trajectories.

``debug_agent`` (a chat model with pdb and every tool), ``rewrite_agent``
(the same without pdb), ``trace_agent`` (the function-level trace instead of
pdb), ``debug_subagent`` (rewrite, view, eval and a
``debug`` tool backed by a debugging subagent with pdb, trace and view), ``expert`` (a scripted demonstrator replaying gold
fixes through pdb) and ``human`` (play in a terminal).
"""

from __future__ import annotations

from typing import Any

from gym_pdb.agents.base import Agent, Turn, Usage, tool_call
from gym_pdb.agents.loop import Episode, run_episode

AGENTS = ("debug_agent", "rewrite_agent", "trace_agent", "debug_subagent", "expert", "human")
LLM_AGENTS = ("debug_agent", "rewrite_agent", "trace_agent", "debug_subagent")


def make_agent(name: str, llm: Any = None, **kwargs: Any) -> Agent:
    """An agent by name; ``llm`` (an LLMConfig or ChatClient) for the chat-model agents."""
    if name == "debug_agent":
        from gym_pdb.agents.debug_agent import DebugAgent

        return DebugAgent(llm, **kwargs)
    if name == "trace_agent":
        from gym_pdb.agents.trace_agent import TraceAgent

        return TraceAgent(llm, **kwargs)
    if name == "debug_subagent":
        from gym_pdb.agents.debug_subagent import DebugSubagentAgent

        return DebugSubagentAgent(llm, **kwargs)
    if name == "rewrite_agent":
        from gym_pdb.agents.rewrite_agent import RewriteAgent

        return RewriteAgent(llm, **kwargs)
    if name == "expert":
        from gym_pdb.agents.expert import ExpertAgent

        return ExpertAgent(**kwargs)
    if name == "human":
        from gym_pdb.agents.human import HumanAgent

        return HumanAgent(**kwargs)
    raise ValueError(f"unknown agent {name!r}; agents: {', '.join(AGENTS)}")


__all__ = ["AGENTS", "LLM_AGENTS", "Agent", "Episode", "Turn", "Usage", "make_agent", "run_episode", "tool_call"]
