"""The debug-gym half of benchmarks/compare_debug_gym.py, run inside debug-gym's own venv.

    $DEBUG_GYM_VENV/bin/python benchmarks/debug_gym_driver.py PLAN.json OUT.json

It imports debug-gym 1.3 (its public env and tool API, as its configs and
scripts/run.py build them: an env, a terminal, the tools of its Mini Nightmare
config added with Toolbox.get_tool) and times the operations of the plan
written by compare_debug_gym.py, on the same tasks, with the same breakpoint,
variable and edit. Samples are seconds, per operation and task; OUT.json also
holds what each step showed where the comparison needs to check it (the frame
reached by ``c``). Only the standard library and debug-gym are used here:
this file must not import gym_pdb.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # swesmith imports litellm: no network at import

#: debug-gym's configs/mini_nightmare.yaml: tools [bash, view, pdb, edit, eval]; listdir is the one
#: tool with a setup step (apt-get update && apt-get install -y tree, at every reset).
DEFAULT_TOOLS = ["bash", "view", "pdb", "edit", "eval"]
FRAME = re.compile(r"> (\S+?)\((\d+)\)")


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text())
    out_path = Path(sys.argv[2])
    if plan.get("task_python"):
        # `python` in debug-gym's entrypoints is whatever is first on PATH: the same interpreter
        # as gym-pdb's task code, so both run the same Python, pytest and pandas.
        os.environ["PATH"] = os.path.dirname(plan["task_python"]) + os.pathsep + os.environ.get("PATH", "")
    import debug_gym.version
    from debug_gym.gym.entities import Event
    from debug_gym.gym.envs.mini_nightmare import MiniNightmareEnv
    from debug_gym.gym.terminals.docker import DockerTerminal
    from debug_gym.gym.terminals.local import LocalTerminal
    from debug_gym.gym.tools.tool import ToolCall
    from debug_gym.gym.tools.toolbox import Toolbox
    from debug_gym.logger import DebugGymLogger

    logger = DebugGymLogger("debug-gym-bench", level=logging.WARNING)
    results: dict = {"version": debug_gym.version.__version__, "python": sys.version.split()[0], "samples": {},
                     "checks": {}, "errors": []}  # fmt: skip
    warmup, reps = int(plan["warmup"]), int(plan["reps_per_task"])
    ops = set(plan["ops"])

    def make_env(task: dict, tools: list[str], initial_eval: bool = True):
        if plan["terminal"] == "docker":
            terminal = DockerTerminal(base_image=plan["image"], logger=logger)
        else:
            terminal = LocalTerminal(logger=logger)
        task_data = {"task_name": task["name"], "codebase": Path(task["codebase"]),
                     "filename": task["entry"], "env_type": "mini_nightmare"}  # fmt: skip
        env = MiniNightmareEnv(task_data=task_data, terminal=terminal, logger=logger, run_timeout=plan["run_timeout"])
        for name in tools:
            env.add_tool(Toolbox.get_tool(name))
        if not initial_eval:
            # The eval tool runs the tests at every reset (its on_env_reset); without it, reset only
            # sets up the workspace, git and the pdb session.
            env.event_hooks.unsubscribe(Event.ENV_RESET, env.get_tool("eval"))
        return env

    counter = [0]

    def call(env, name: str, **arguments):
        counter[0] += 1
        info = env.step(ToolCall(id=f"call_{counter[0]}", name=name, arguments=arguments))
        return info.step_observation.observation

    def record(op: str, task: str, fn, setup=None) -> None:
        samples = []
        for i in range(warmup + reps):
            if setup is not None:
                setup()
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            if i >= warmup:
                samples.append(elapsed)
        results["samples"].setdefault(op, {})[task] = samples

    def frame_of(text: str) -> tuple[str, int] | None:
        found = FRAME.findall(text)
        if not found:
            return None
        path, line = found[-1]
        return os.path.basename(path), int(line)

    for task in plan["tasks"]:
        # debug-gym copies the codebase folder into its workspace: never anything else (an empty path is the cwd).
        if not task.get("codebase") or not (Path(task["codebase"]) / "test.py").is_file():
            results["errors"].append(f"{task['name']}: no task folder with a test.py at {task.get('codebase')!r}")
            continue
        name, entry, line, var = task["name"], task["entry"], task["bp_line"], task["var"]
        bp = f"b {entry}:{line}"
        try:
            env = make_env(task, DEFAULT_TOOLS)
            try:
                if "reset" in ops:
                    record("reset", name, env.reset)
                env.reset()
                if "pdb_p" in ops:
                    record("pdb_p", name, lambda: call(env, "pdb", command="p 1+1"))
                if "pdb_b" in ops:
                    record("pdb_b", name, lambda: call(env, "pdb", command=bp),
                           setup=lambda: call(env, "pdb", command=f"cl {entry}:{line}"))  # fmt: skip
                pdb_tool = env.get_tool("pdb")
                call(env, "pdb", command=f"cl {entry}:{line}")
                call(env, "pdb", command=bp)
                reached = []
                if "pdb_c" in ops:
                    record("pdb_c", name, lambda: reached.append(frame_of(call(env, "pdb", command="c"))),
                           setup=lambda: pdb_tool.restart_pdb(env))  # fmt: skip
                    results["checks"].setdefault("c_reached", {})[name] = reached
                if "pdb_p_var" in ops:
                    pdb_tool.restart_pdb(env)
                    call(env, "pdb", command="c")
                    shown = []
                    record("pdb_p_var", name, lambda: shown.append(call(env, "pdb", command=f"p {var}")))
                    results["checks"].setdefault("p_var", {})[name] = shown[-1][:300]
                if "view" in ops:
                    record("view", name, lambda: call(env, "view", path=entry))
                if "eval" in ops:
                    record("eval", name, lambda: call(env, "eval"))
                if "rewrite" in ops:
                    flip = iter(range(10**9))
                    variants = task["rewrite_variants"]
                    record("rewrite", name, lambda: call(env, "edit", path=entry, start=task["rewrite_line"],
                                                         end=task["rewrite_line"], new_code=variants[next(flip) % 2]))  # fmt: skip
            finally:
                env.close()

            if "reset_no_eval" in ops or "episode" in ops:
                env = make_env(task, DEFAULT_TOOLS, initial_eval=False)
                try:
                    if "reset_no_eval" in ops:
                        record("reset_no_eval", name, env.reset)
                    if "episode" in ops:
                        ends = []

                        def episode():
                            env.reset()  # sets up the workspace and git, and starts pdb
                            call(env, "pdb", command=bp)
                            call(env, "pdb", command="c")
                            call(env, "pdb", command=f"p {var}")
                            call(env, "edit", path=entry, start=task["rewrite_line"], end=task["rewrite_line"],
                                 new_code=task["rewrite_variants"][0])  # fmt: skip
                            ends.append(call(env, "eval")[-200:])

                        record("episode", name, episode)
                finally:
                    env.close()

            if "reset_listdir" in ops:
                env = make_env(task, DEFAULT_TOOLS + ["listdir"])
                try:
                    record("reset_listdir", name, env.reset)
                    results["checks"].setdefault("listdir", {})[name] = call(env, "listdir")[:300]
                finally:
                    env.close()
        except Exception:  # noqa: BLE001 - report and go on with the next task
            results["errors"].append(f"{name}: {traceback.format_exc()}")
    out_path.write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
