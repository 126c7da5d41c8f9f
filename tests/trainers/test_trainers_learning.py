"""The learning benchmark's cheap parts: its task sets, its CLI, compact expert trajectories, the curves.

The benchmark itself (``benchmarks/learning_cpu.py``) trains for many minutes; these check what it is built
on, in seconds: the full pipeline runs in ``test_trainers_pipeline.py``.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from trainers_testlib import REPO, require_train_extra

require_train_extra()

sys.path.insert(0, str(REPO / "benchmarks"))
import learning_cpu  # noqa: E402

from trainers.pipeline import collect, plot_curves, score  # noqa: E402


def test_task_sets_and_cli():
    assert len(set(learning_cpu.TRAIN)) >= 8
    assert not set(learning_cpu.TRAIN) & set(learning_cpu.HELD_OUT)
    opts = learning_cpu.parse(["--smoke", "--epochs", "40"])
    assert (opts.epochs, opts.grpo_steps, opts.demos) == (1, 1, 1)
    assert learning_cpu.parse([]).size == "cpu"


def test_collect_offers_only_the_given_tools(tmp_path):
    run = collect(learning_cpu.ENV, learning_cpu.TRAIN[:1], tmp_path / "expert", tools=learning_cpu.TOOLS)
    assert score(run).resolved == 1
    (path,) = (run / "trajectories").rglob("*.json")
    trajectory = json.loads(path.read_text())
    assert sorted(t["function"]["name"] for t in trajectory["tools"]) == sorted(learning_cpu.TOOLS)
    used = {c["function"]["name"] for m in trajectory["messages"] for c in m.get("tool_calls") or []}
    assert used <= set(learning_cpu.TOOLS)


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_plot_curves(tmp_path):
    histories = {
        "sft": [{"step": 8, "loss": 9.0}, {"step": 16, "loss": 4.0}, {"step": 16, "train_runtime": 1.0}],
        "grpo": [{"step": 1, "loss": 0.0, "reward": 0.25}, {"step": 2, "loss": 0.1, "reward": 0.5}],
    }
    path = plot_curves(histories, tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
