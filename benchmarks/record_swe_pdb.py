"""Drive SWE-PDB's own environment through scripted tool calls and record what it answers.

Runs in the venv made by ``benchmarks/setup_swe_pdb.sh`` (SWE-PDB's debug_gym,
not gym-pdb): it imports nothing of gym-pdb. ``benchmarks/fidelity.py`` writes
the script (tasks, their settings and the calls) and reads the recording.

    SWE_PDB_VENV/bin/python benchmarks/record_swe_pdb.py SCRIPT.json RECORDING.json
    SWE_PDB_VENV/bin/python benchmarks/record_swe_pdb.py --system-prompts RECORDING.json OUT.json

The script is a list of episodes::

    {"suite": ..., "task": ..., "benchmark": "kodcode", "data_path": ..., "env_kwargs": {...},
     "calls": [{"name": "pdb", "arguments": {...}}, ...]}

The recording is the same list with ``observations`` (one per call, the text
the model was shown: the step observation), ``workdir`` (the episode's working
folder, which observations name), the reset's ``instructions`` and
``system_prompts``: per agent (``debug_agent``, ``rewrite_agent``), the system
message SWE-PDB's own agent class built for a fresh env of the episode's task
(``build_system_prompt`` of the reset's info) and that env's ``workdir``. The
agent is made with a minimal config (the episode's ``env_kwargs``, where its
prompt's choices are, and what ``BaseAgent.__init__`` reads) and an LLM
stand-in with no context length, so that nothing is trimmed (the profile does
not trim either). ``--system-prompts`` adds them to an existing recording,
leaving the rest as it was.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

TOOLS = ("grep", "pdb", "view", "rewrite", "eval")
#: Each agent's tools, as the ``debug_agent`` and ``rewrite_agent`` sections of SWE-PDB's run configs list them.
AGENT_TOOLS = {"debug_agent": TOOLS, "rewrite_agent": ("grep", "view", "rewrite", "eval")}


class NoContextLLM:
    """What the agent's system prompt reads of its LLM: no known context length, so ``trim_message`` keeps all."""

    context_length = None
    count_tokens = None


def make_env(episode: dict, tools: tuple[str, ...] = TOOLS):
    from debug_gym.gym.envs import select_env
    from debug_gym.gym.terminals.local import LocalTerminal
    from debug_gym.gym.tools.toolbox import Toolbox
    from debug_gym.logger import DebugGymLogger

    cls = select_env(episode["benchmark"])
    kwargs = dict(episode["env_kwargs"])
    if episode["benchmark"] == "mini_nightmare":
        # Its data path and task list are class attributes (a download cache); point them at the release's copy.
        cls.DATA_PATH = Path(episode["data_path"])
        cls.TASK_NAMES = [episode["task"]]
    else:
        kwargs["data_path"] = episode["data_path"]
    logger = DebugGymLogger("swe-pdb-oracle")
    logger.setLevel("ERROR")
    env = cls(**kwargs, problems=[episode["task"]], terminal=LocalTerminal(logger=logger), logger=logger)
    for name in tools:
        env.add_tool(Toolbox.get_tool(name))
    return env


def record(episode: dict) -> dict:
    from debug_gym.gym.tools.tool import ToolCall

    env = make_env(episode)
    try:
        info = env.reset(options={"task_name": episode["task"]})
        observations, seconds = [], []
        for i, call in enumerate(episode["calls"]):
            began = time.perf_counter()
            info = env.step(ToolCall(id=f"call_{i}", name=call["name"], arguments=dict(call["arguments"])))
            seconds.append(round(time.perf_counter() - began, 4))
            observations.append(info.step_observation.observation)
        return {
            **episode,
            "workdir": str(env.working_dir),
            "instructions": info.instructions,
            "observations": observations,
            "seconds": seconds,
            "system_prompts": system_prompts(episode),
        }
    finally:
        env.close()


def system_prompts(episode: dict) -> dict:
    """Per agent: the system message SWE-PDB's agent built for the episode's task, and the env's working folder."""
    from debug_gym.agents.debug_agent import DebugAgent
    from debug_gym.agents.rewrite_agent import RewriteAgent

    prompts = {}
    with tempfile.TemporaryDirectory() as out:
        for cls in (DebugAgent, RewriteAgent):
            env = make_env(episode, AGENT_TOOLS[cls.name])
            try:
                info = env.reset(options={"task_name": episode["task"]})
                config = {"env_kwargs": episode["env_kwargs"], "output_path": out, "random_seed": 42, "memory_size": 80}
                agent = cls(config, env, llm=NoContextLLM())
                system = agent.build_system_prompt(info)
                prompts[cls.name] = {"workdir": str(env.working_dir), "content": system[0]["content"]}
            finally:
                env.close()
    return prompts


def main(argv: list[str]) -> int:
    if argv[0] == "--system-prompts":
        _, recording, out = argv
        recorded = [{**e, "system_prompts": system_prompts(e)} for e in json.loads(Path(recording).read_text())]
    else:
        script, out = argv
        recorded = [record(episode) for episode in json.loads(Path(script).read_text())]
    Path(out).write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
