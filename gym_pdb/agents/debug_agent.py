"""debug_agent: a chat model with every tool, pdb first (SWE-PDB's agent)."""

from __future__ import annotations

from gym_pdb.agents.llm_agent import LLMAgent
from gym_pdb.agents.prompts import DEBUG_SYSTEM_PROMPT
from gym_pdb.tools import DEFAULT_TOOLS


class DebugAgent(LLMAgent):
    name = "debug_agent"
    tools = DEFAULT_TOOLS
    prompt = DEBUG_SYSTEM_PROMPT
