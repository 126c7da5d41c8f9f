"""rewrite_agent: the same chat model without pdb (the paper's baseline)."""

from __future__ import annotations

from gym_pdb.agents.llm_agent import LLMAgent
from gym_pdb.agents.prompts import REWRITE_SYSTEM_PROMPT
from gym_pdb.tools import REWRITE_ONLY_TOOLS


class RewriteAgent(LLMAgent):
    name = "rewrite_agent"
    tools = REWRITE_ONLY_TOOLS
    prompt = REWRITE_SYSTEM_PROMPT
