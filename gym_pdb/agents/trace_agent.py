"""trace_agent: a chat model with the function-level trace instead of pdb (after ADI, arXiv 2604.24212)."""

from __future__ import annotations

from gym_pdb.agents.llm_agent import LLMAgent
from gym_pdb.agents.prompts import TRACE_SYSTEM_PROMPT
from gym_pdb.tools import REWRITE_ONLY_TOOLS


class TraceAgent(LLMAgent):
    name = "trace_agent"
    tools = (*REWRITE_ONLY_TOOLS, "trace")
    prompt = TRACE_SYSTEM_PROMPT
