"""SWE-PDB's eval as its agent saw it: pytest's own output, cleaned and shortened as SWE-PDB did.

The reward still comes from gym-pdb's judged run (:func:`gym_pdb.tools.eval.run_tests`);
the observation is a second, plain run of the release's test command
(``entrypoint`` of its run configs, e.g. ``python -m pytest --tb=short -sq test.py``)
with pytest's width set as SWE-PDB's terminal set it, so an eval in this
profile runs the tests twice: at once, both on the agent's files
(:func:`judged_and_observed`).
"""

from __future__ import annotations

import os
import re
import shlex
from concurrent.futures import ThreadPoolExecutor, wait
from functools import lru_cache

import yaml

from gym_pdb.profiles.swe_pdb.release import find_release
from gym_pdb.tools.context import ToolContext
from gym_pdb.tools.eval import run_tests
from gym_pdb.verdict.result import EvalResult
from gym_pdb.verdict.run import sync_workspace

#: SWE-PDB's local terminal gave pytest this width (its COLUMNS default).
COLUMNS = "200"
#: The environment of the plain runs (this eval's and the pdb's): SWE-PDB's terminal width, and no pytest
#: plugins of the sandbox interpreter's other packages (gym-pdb's venv is not the task's image), as the
#: judged run has it: they cost two scans of every installed package at each start, and could make the
#: plain run's outcome differ from the judged one's.
PLAIN_ENV = {"COLUMNS": COLUMNS, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
#: Lines of the traceback part SWE-PDB kept (the last ones, duplicates dropped first).
TRACEBACK_LINES = 20
SUMMARY = "short test summary info"
#: The run config whose test command every suite shares.
CONFIG = "config_debug_bench.yaml"


class PlainRuns:
    """The thread that runs an env's plain runs beside its judged ones (:func:`judged_and_observed`).

    Kept between evals: starting and joining a thread per eval cost ~4 ms
    under load, and then more than the plain run's wait. A forked child makes
    its own (the parent's thread is not in it). The thread ends when its
    owner, the env's eval tool, is collected.
    """

    def __init__(self) -> None:
        self._pool: tuple[int, ThreadPoolExecutor] | None = None

    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="swe-pdb-plain-eval"))
        return self._pool[1]


@lru_cache(maxsize=1)
def entrypoint() -> tuple[str, ...]:
    """The release's test command, as words."""
    config = yaml.safe_load((find_release() / "scripts" / CONFIG).read_text(encoding="utf-8"))
    return tuple(shlex.split(config["base"]["env_kwargs"]["entrypoint"]))


def raw_output(ctx: ToolContext) -> str:
    """pytest's output for the workspace as it is now, run as SWE-PDB ran it."""
    words = list(entrypoint())
    if words[0] == "python":
        words[0] = ctx.sandbox.info.python
    run = ctx.sandbox.run(words, timeout=ctx.settings.eval_timeout, env=PLAIN_ENV)
    if run.timed_out:
        return f"Timeout expired after {ctx.settings.eval_timeout:.0f} seconds."
    return run.text.strip("\r\n").strip("\n")


def cleaned(output: str) -> str:
    """Timings, separator widths and the platform, root and plugin lines taken out (as SWE-PDB's cleanup did)."""
    output = re.sub(r"^Ran \d+ tests? in \d+\.\d+s$", "", output, flags=re.MULTILINE)
    output = re.sub(r"^====*$", "====", output, flags=re.MULTILINE)
    output = re.sub(r"^----*$", "----", output, flags=re.MULTILINE)
    for field in ("platform", "rootdir", "plugins", "cachedir"):
        output = re.sub(rf"^{field}[ :].*\n", "", output, flags=re.MULTILINE)
    return output


def shortened(output: str) -> str:
    """Before pytest's short summary: each line once, the last TRACEBACK_LINES of them; the summary as it is."""
    at = output.find(SUMMARY)
    head, summary = (output, "") if at == -1 else (output[:at], output[at:])
    seen: set[str] = set()
    unique = [line for line in head.split("\n") if not (line in seen or seen.add(line))]  # type: ignore[func-returns-value]
    text = "\n".join(unique[-TRACEBACK_LINES:])
    return text + "\n" + summary if summary else text


def observation(ctx: ToolContext) -> str:
    return shortened(cleaned(raw_output(ctx)))


def judged_and_observed(ctx: ToolContext, plain_runs: PlainRuns) -> tuple[EvalResult, str]:
    """gym-pdb's judged run (the verdict, the reward) and SWE-PDB's plain one (the observation, on a thread
    of ``plain_runs``), side by side.

    The workspace is made to hold the agent's files once, before either starts,
    so the plain run sees what it saw after the judged run's own sync, and the
    judged run does not sync again (that would remove the caches the plain run
    is writing: ``__pycache__``, ``.pytest_cache``). A repository task's run
    stops the episode's processes first: there, one after the other.
    """
    if ctx.task.repo:
        result = run_tests(ctx)
        return result, observation(ctx)
    evidence = sync_workspace(ctx.sandbox, ctx.task, ctx.workspace.files)
    plain = plain_runs.pool().submit(observation, ctx)
    try:
        result = run_tests(ctx, synced=evidence)
    except BaseException:
        wait([plain])  # the plain run ends before the eval returns, as it did with a pool per eval
        raise
    return result, plain.result()
