"""The task prompt of the `swe-pdb` profile: what SWE-PDB's environment said at reset (its ``instructions``).

Read from the release: the ``instructions`` property of the env class its run
config names for the suite (``benchmark``), with CanItEdit's instruction
(``question.txt``) appended as its env appended it when its config asks.
"""

from __future__ import annotations

import ast
from functools import lru_cache

import yaml

from gym_pdb.profiles.swe_pdb.release import RUN_CONFIGS, constant, find_release
from gym_pdb.profiles.swe_pdb.templates import assigned, containing, function_node, render
from gym_pdb.tasks.task import Task

#: The env class of each of SWE-PDB's benchmarks (``benchmark`` in its run configs).
ENV_CLASSES = {
    "kodcode": ("gym/envs/kodcode.py", "KodCodeEnv"),
    "mini_nightmare": ("gym/envs/mini_nightmare.py", "MiniNightmareEnv"),
    "canitedit": ("gym/envs/canitedit.py", "CaniTEditEnv"),
}


@lru_cache(maxsize=None)
def run_settings(suite: str) -> tuple[str, bool]:
    """The benchmark SWE-PDB ran ``suite`` as, and whether its env added the task's instruction."""
    name = RUN_CONFIGS.get(suite, RUN_CONFIGS["debugbench"])
    base = yaml.safe_load((find_release() / "scripts" / name).read_text(encoding="utf-8"))["base"]
    return str(base["benchmark"]), bool(base["env_kwargs"].get("add_instruction"))


def instructions(task: Task) -> str:
    """SWE-PDB's reset observation for ``task``."""
    benchmark, add_instruction = run_settings(task.suite)
    relpath, cls = ENV_CLASSES.get(benchmark, ENV_CLASSES["kodcode"])
    qualname = f"{cls}.instructions"
    returned = next(n.value for n in ast.walk(function_node(relpath, qualname)) if isinstance(n, ast.Return) and n.value)
    if isinstance(returned, ast.Name):  # the default text is assigned first, then returned or extended
        default = constant(assigned(relpath, qualname, returned.id), {})
    else:
        return str(constant(returned, {}))
    question = task.files.get("question.txt", "").strip() or str(task.metadata.get("instruction", "")).strip()
    if add_instruction and question:
        return render(containing(relpath, qualname, "The task instruction is"),
                      {"default_instr": default, "question_text": question})  # fmt: skip
    return str(default)
