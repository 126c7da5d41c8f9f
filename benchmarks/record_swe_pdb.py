"""Drive SWE-PDB's own environment through scripted tool calls and record what it answers.

Runs in the venv made by ``benchmarks/setup_swe_pdb.sh`` (SWE-PDB's debug_gym,
not gym-pdb): it imports nothing of gym-pdb. ``benchmarks/fidelity.py`` writes
the script (tasks, their settings and the calls) and reads the recording.

    SWE_PDB_VENV/bin/python benchmarks/record_swe_pdb.py SCRIPT.json RECORDING.json

The script is a list of episodes::

    {"suite": ..., "task": ..., "benchmark": "kodcode", "data_path": ..., "env_kwargs": {...},
     "calls": [{"name": "pdb", "arguments": {...}}, ...]}

The recording is the same list with ``observations`` (one per call, the text
the model was shown: the step observation), ``workdir`` (the episode's working
folder, which observations name) and the reset's ``instructions``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TOOLS = ("grep", "pdb", "view", "rewrite", "eval")


def make_env(episode: dict):
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
    for name in TOOLS:
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
        }
    finally:
        env.close()


def main(argv: list[str]) -> int:
    script, out = argv
    episodes = json.loads(Path(script).read_text())
    recorded = [record(episode) for episode in episodes]
    Path(out).write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
