"""Trajectories on disk: SWE-PDB's SFT format, which ``trainers/`` reads directly.

One JSON object per episode: ``messages`` (OpenAI chat with ``tool_calls``
and tool messages), ``tools`` (the OpenAI function schemas), ``enable_thinking``,
and ``task_id``, ``suite``, ``env_id``, ``resolved``, ``agent``, ``model``.

An episode whose ``debug`` tool ran a subagent also has ``subagents``: one
object per call, ``{turn, tool_call_id, question, messages, tools, model,
enable_thinking, steps, usage}``, where ``turn`` is the main level's
assistant turn that asked (1-based) and ``messages``/``tools`` are the
subagent's own conversation, a trajectory of its own
(``trainers.data.subagent_trajectories``). The main level's ``messages``
are unchanged: it trains as any trajectory.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from gym_pdb.agents.base import Agent
from gym_pdb.agents.loop import Episode


def trajectory_row(episode: Episode, agent: Agent, env_id: str = "") -> dict[str, Any]:
    thinking = agent.enable_thinking or any(m.get("reasoning_content") for m in episode.messages)
    row = {
        "messages": episode.messages,
        "tools": episode.tools,
        "enable_thinking": bool(thinking),
        "task_id": episode.task_id,
        "suite": episode.suite,
        "env_id": env_id,
        "resolved": episode.resolved,
        "agent": agent.name,
        "model": agent.model,
    }
    if episode.subagents:
        row["subagents"] = episode.subagents
    return row


def write_json(path: str | os.PathLike, row: dict[str, Any]) -> None:
    """Write ``row`` as one JSON object, atomically (a killed run leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_trajectory(path: str | os.PathLike, index: int = 0) -> dict[str, Any]:
    """A trajectory: a ``.json`` file (one object or a list), or row ``index`` of a ``.jsonl`` or ``.parquet`` file.

    A parquet row (SWE-PDB's SFT release) comes as Arrow gives it: structs padded
    with ``None`` fields, nested columns possibly as JSON text; readers use ``.get``.
    """
    path = Path(path)
    if path.suffix == ".parquet":
        from gym_pdb.tasks.parquet import maybe_json, parquet_rows

        rows = [{k: maybe_json(v) if k in ("messages", "tools") else v for k, v in r.items()} for r in parquet_rows(path)]
    elif path.suffix == ".jsonl":
        text = path.read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        rows = data if isinstance(data, list) else [data]
    if not -len(rows) <= index < len(rows):
        raise IndexError(f"{path} holds {len(rows)} trajectories; there is no row {index}")
    row = rows[index]
    if not isinstance(row, dict) or "messages" not in row:
        raise ValueError(f"{path}: row {index} is not a trajectory (no 'messages')")
    if isinstance(row["messages"], str):
        row["messages"] = json.loads(row["messages"])
    return row


def patch(before: dict[str, str], after: dict[str, str]) -> str:
    """A unified diff of the files the episode changed (``a/`` before, ``b/`` after)."""
    chunks: list[str] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                f"a/{path}" if old is not None else "/dev/null",
                f"b/{path}" if new is not None else "/dev/null",
            )
        )
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in chunks)
    return text
