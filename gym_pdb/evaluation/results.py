"""The files of a run directory and the rows of ``results.jsonl``.

RUN_DIR/config.json                        the run's configuration (reloaded by --resume)
RUN_DIR/results.jsonl                      one row per finished episode (appended; the last row of a task counts)
RUN_DIR/trajectories/<suite>/<task>.json   the episode in the OpenAI messages format with tools (SFT data)
RUN_DIR/steps/<suite>/<task>.json         per-turn records: tool, arguments, times, frame, tests (agents.steps)
RUN_DIR/patches/<suite>/<task>.diff        the final patch
RUN_DIR/patches/<suite>/<task>.gold.diff   the task's known fix, when it has one
RUN_DIR/summary.md                         the summary table, then the command that opens the run in the viewer

The step records sit in their own tree, not beside the trajectories, because
``trainers/`` reads every JSON file under ``trajectories/`` as a trajectory.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Iterable

from gym_pdb.agents.base import Agent
from gym_pdb.agents.loop import Episode
from gym_pdb.agents.steps import STEP_LOG_VERSION
from gym_pdb.agents.trajectory import patch, trajectory_row, write_json

RESULTS = "results.jsonl"
CONFIG = "config.json"
SUMMARY = "summary.md"
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    return UNSAFE.sub("_", text).strip("._") or "_"


def result_row(
    episode: Episode,
    agent: Agent,
    env_id: str,
    max_steps: int,
    trajectory: str,
    patch_path: str,
    step_log: str = "",
    gold_patch: str = "",
    label: str | None = None,
) -> dict[str, Any]:
    observations = [m.get("content") or "" for m in episode.messages if m.get("role") == "tool"]
    return {
        "task_id": episode.task_id,
        "suite": episode.suite,
        "env_id": env_id,
        "agent": agent.name,
        "label": label or agent.name,
        "model": agent.model,
        "observation_chars": sum(len(text) for text in observations),
        "resolved": episode.resolved,
        "reward": episode.reward,
        "steps": episode.steps,
        "turns": episode.turns,
        "max_steps": max_steps,
        "tool_counts": dict(episode.tool_counts),
        "parse_errors": episode.parse_errors,
        "no_tool_calls": episode.no_tool_calls,
        "tests_passed": episode.tests_passed,
        "tests_total": episode.tests_total,
        "tokens": {"prompt": episode.usage.prompt_tokens, "completion": episode.usage.completion_tokens},
        "wall_time": round(episode.timings["wall"], 3),
        "timings": {k: round(v, 4) for k, v in episode.timings.items()},
        "stop_reason": episode.stop_reason,
        "error": episode.error,
        "trajectory": trajectory,
        "patch": patch_path,
        "step_log": step_log,
        "gold_patch": gold_patch,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def record_episode(
    run_dir: Path, episode: Episode, agent: Agent, env_id: str, max_steps: int, label: str | None = None
) -> dict[str, Any]:
    """Write the episode's trajectory and patch; return its results row (``label``: the run's name in summaries)."""
    suite, name = safe_name(episode.suite or env_id), safe_name(episode.task_id)
    trajectory = f"trajectories/{suite}/{name}.json"
    patch_path = f"patches/{suite}/{name}.diff"
    step_log = f"steps/{suite}/{name}.json"
    gold_patch = f"patches/{suite}/{name}.gold.diff"
    if episode.messages:
        write_json(run_dir / trajectory, trajectory_row(episode, agent, env_id))
        log = {"version": STEP_LOG_VERSION, "task_id": episode.task_id, "suite": episode.suite, "env_id": env_id}
        write_json(run_dir / step_log, {**log, "turns": episode.step_log})
    else:
        trajectory = step_log = ""
    diff = patch(episode.original_files, episode.final_files) if episode.final_files else ""
    (run_dir / patch_path).parent.mkdir(parents=True, exist_ok=True)
    (run_dir / patch_path).write_text(diff, encoding="utf-8")
    if episode.gold_files:
        gold = patch(episode.original_files, {**episode.original_files, **episode.gold_files})
        (run_dir / gold_patch).write_text(gold, encoding="utf-8")
    else:
        gold_patch = ""
    return result_row(episode, agent, env_id, max_steps, trajectory, patch_path, step_log, gold_patch, label)


def append_row(run_dir: Path, row: dict[str, Any]) -> None:
    with open(run_dir / RESULTS, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_rows(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a run, the last one of each (suite, task, agent, model) only."""
    path = Path(run_dir) / RESULTS
    if not path.is_file():
        return []
    latest: dict[tuple, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut by a killed run
        latest[row_key(row)] = row
    return list(latest.values())


def row_key(row: dict[str, Any]) -> tuple:
    return (row.get("env_id"), row.get("task_id"), row.get("agent"), row.get("model"))


def finished(rows: Iterable[dict[str, Any]], rerun_failed: bool) -> set[tuple[str, str]]:
    """(env_id, task_id) of the rows a resumed run skips: no error, and resolved if ``rerun_failed``."""
    return {(r["env_id"], r["task_id"]) for r in rows if not r.get("error") and (r.get("resolved") or not rerun_failed)}
