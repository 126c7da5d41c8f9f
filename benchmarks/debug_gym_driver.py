"""The debug-gym half of benchmarks/compare_debug_gym.py, run inside debug-gym's own venv.

    $DEBUG_GYM_VENV/bin/python benchmarks/debug_gym_driver.py PLAN.json OUT.json

It imports debug-gym 1.3 and uses its public env and tool API the way its
configs and scripts/run.py build an episode (an env, a terminal, the tools of
its Mini Nightmare config added with Toolbox.get_tool), and times the
operations of the plan written by compare_debug_gym.py, on the same tasks
with the same breakpoint, variable and edit. Samples are seconds, per
operation and task; OUT.json also holds what the comparison checks (the frame
each ``c`` stopped at). Only the standard library and debug-gym are used
here: this file must not import gym_pdb.
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

os.environ.setdefault(
    "LITELLM_LOCAL_MODEL_COST_MAP", "True"
)  # swesmith imports litellm: no network at import

#: debug-gym's configs/mini_nightmare.yaml: tools [bash, view, pdb, edit, eval]. listdir (not in that
#: config) is the one tool with a setup step: `apt-get update && apt-get install -y tree`, at every reset.
DEFAULT_TOOLS = ["bash", "view", "pdb", "edit", "eval"]
FRAME = re.compile(r"> (\S+?)\((\d+)\)")


def frame_of(text: str) -> tuple[str, int] | None:
    """The last '> /path/file.py(12)func()' of pdb's output, as (file.py, 12)."""
    found = FRAME.findall(text)
    if not found:
        return None
    path, line = found[-1]
    return os.path.basename(path), int(line)


def plan_fields(task: dict) -> tuple[str, str, int, str]:
    """A plan entry's task name, program file, breakpoint line and variable."""
    return task["name"], task["entry"], task["bp_line"], task["var"]


class Run:
    def __init__(self, plan: dict):
        import debug_gym.version
        from debug_gym.logger import DebugGymLogger

        self.plan = plan
        self.warmup, self.reps = int(plan["warmup"]), int(plan["reps_per_task"])
        self.ops = set(plan["ops"])
        self.logger = DebugGymLogger("debug-gym-bench", level=logging.WARNING)
        self.calls = 0
        self.results: dict = {
            "version": debug_gym.version.__version__,
            "python": sys.version.split()[0],
            "samples": {},
            "checks": {},
            "errors": [],
        }

    # -- debug-gym, as its experiment code sets it up ---------------------------------------------
    def make_env(self, task: dict, tools: list[str], initial_eval: bool = True):
        from debug_gym.gym.entities import Event
        from debug_gym.gym.envs.mini_nightmare import MiniNightmareEnv
        from debug_gym.gym.terminals.docker import DockerTerminal
        from debug_gym.gym.terminals.local import LocalTerminal
        from debug_gym.gym.tools.toolbox import Toolbox

        if self.plan["terminal"] == "docker":
            terminal = DockerTerminal(base_image=self.plan["image"], logger=self.logger)
        else:
            terminal = LocalTerminal(logger=self.logger)
        task_data = {
            "task_name": task["name"],
            "codebase": Path(task["codebase"]),
            "filename": task["entry"],
            "env_type": "mini_nightmare",
        }
        env = MiniNightmareEnv(
            task_data=task_data,
            terminal=terminal,
            logger=self.logger,
            run_timeout=self.plan["run_timeout"],
        )
        for name in tools:
            env.add_tool(Toolbox.get_tool(name))
        if not initial_eval:
            # The eval tool runs the tests at every reset (its on_env_reset); unsubscribed, reset
            # sets up the workspace, git and the pdb session only.
            env.event_hooks.unsubscribe(Event.ENV_RESET, env.get_tool("eval"))
        return env

    def call(self, env, name: str, **arguments) -> str:
        from debug_gym.gym.tools.tool import ToolCall

        self.calls += 1
        info = env.step(
            ToolCall(id=f"call_{self.calls}", name=name, arguments=arguments)
        )
        return info.step_observation.observation

    def record(self, op: str, task: str, fn, setup=None) -> None:
        if op not in self.ops:
            return
        samples = []
        for i in range(self.warmup + self.reps):
            if setup is not None:
                setup()
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            if i >= self.warmup:
                samples.append(elapsed)
        self.results["samples"].setdefault(op, {})[task] = samples

    def check(self, kind: str, task: str, value) -> None:
        self.results["checks"].setdefault(kind, {})[task] = value

    # -- the operations ----------------------------------------------------------------------------
    def run_task(self, task: dict) -> None:
        self.default_tools(task)
        if self.ops & {"reset_no_eval", "episode"}:
            self.no_initial_eval(task)
        if "reset_listdir" in self.ops:
            self.with_listdir(task)

    def default_tools(self, task: dict) -> None:
        name, entry, line, var = plan_fields(task)
        bp, clear = f"b {entry}:{line}", f"cl {entry}:{line}"
        env = self.make_env(task, DEFAULT_TOOLS)
        try:
            self.record("reset", name, env.reset)
            env.reset()
            self.record("pdb_p", name, lambda: self.call(env, "pdb", command="p 1+1"))
            self.record("pdb_b", name, lambda: self.call(env, "pdb", command=bp),
                        setup=lambda: self.call(env, "pdb", command=clear))  # fmt: skip
            pdb_tool = env.get_tool("pdb")
            self.call(env, "pdb", command=clear)
            self.call(env, "pdb", command=bp)
            reached: list = []
            self.record("pdb_c", name, lambda: reached.append(frame_of(self.call(env, "pdb", command="c"))),
                        setup=lambda: pdb_tool.restart_pdb(env))  # fmt: skip
            self.check("c_reached", name, reached)
            pdb_tool.restart_pdb(env)
            self.call(env, "pdb", command="c")
            shown: list = []
            self.record(
                "pdb_p_var",
                name,
                lambda: shown.append(self.call(env, "pdb", command=f"p {var}")),
            )
            self.check("p_var", name, shown[-1][:300] if shown else "")
            self.record("view", name, lambda: self.call(env, "view", path=entry))
            self.record("eval", name, lambda: self.call(env, "eval"))
            flip = iter(range(10**9))
            start, variants = task["rewrite_line"], task["rewrite_variants"]
            self.record("rewrite", name, lambda: self.call(env, "edit", path=entry, start=start, end=start,
                                                           new_code=variants[next(flip) % 2]))  # fmt: skip
        finally:
            env.close()

    def no_initial_eval(self, task: dict) -> None:
        name, entry, line, var = plan_fields(task)
        env = self.make_env(task, DEFAULT_TOOLS, initial_eval=False)
        ends: list = []

        def episode():
            env.reset()  # the workspace, git, and the pdb session started
            self.call(env, "pdb", command=f"b {entry}:{line}")
            self.call(env, "pdb", command="c")
            self.call(env, "pdb", command=f"p {var}")
            start = task["rewrite_line"]
            self.call(
                env,
                "edit",
                path=entry,
                start=start,
                end=start,
                new_code=task["rewrite_variants"][0],
            )
            ends.append(self.call(env, "eval")[-200:])

        try:
            self.record("reset_no_eval", name, env.reset)
            self.record("episode", name, episode)
        finally:
            env.close()

    def with_listdir(self, task: dict) -> None:
        env = self.make_env(task, [*DEFAULT_TOOLS, "listdir"])
        try:
            self.record("reset_listdir", task["name"], env.reset)
            self.check("listdir", task["name"], self.call(env, "listdir")[:300])
        finally:
            env.close()


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text())
    out_path = Path(sys.argv[2])
    if plan.get("task_python"):
        # `python` in debug-gym's entry points is the first on PATH: make it gym-pdb's interpreter,
        # so that both run the task code with the same Python, pytest and pandas.
        os.environ["PATH"] = (
            os.path.dirname(plan["task_python"])
            + os.pathsep
            + os.environ.get("PATH", "")
        )
    run = Run(plan)
    for task in plan["tasks"]:
        # debug-gym copies the codebase folder into its workspace: never anything else (an empty path is the cwd).
        if (
            not task.get("codebase")
            or not (Path(task["codebase"]) / "test.py").is_file()
        ):
            run.results["errors"].append(
                f"{task['name']}: no task folder with a test.py at {task.get('codebase')!r}"
            )
            continue
        try:
            run.run_task(task)
        except Exception:  # noqa: BLE001 - report it and go on with the next task
            run.results["errors"].append(f"{task['name']}: {traceback.format_exc()}")
    out_path.write_text(json.dumps(run.results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
