"""The training pipeline end to end at toy scale: expert trajectories, SFT, `transformers serve`, gym-pdb eval.

It checks that every stage runs with the real parts (the ``gym-pdb eval``
command, TRL's SFT, transformers' OpenAI-compatible server on loopback,
``debug_agent``) and that the served checkpoint's tool calls parse, not that
it learns: ``benchmarks/learning_cpu.py`` is about learning.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from trainers_testlib import SHARED_DATA, finite_losses, require_train_extra

require_train_extra()

from trainers.models import random_qwen3  # noqa: E402
from tests.conftest import require  # noqa: E402
from trainers.pipeline import collect, evaluate, score, serve, sft  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "mini_nightmare").is_dir(), reason="needs the suite data (GYM_PDB_DATA)"
)

ENV = "PDB-Synthetic-v0"
TASKS = ["syn-train-745470182815633045", "syn-train-8206391887579712273"]


def test_collect_sft_serve_eval(tokenizer, tmp_path, completion_only_lm_head):
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    require(f"transformers serve needs {', '.join(missing)}" if missing else None, "transformers serve")
    experts = collect(ENV, TASKS, tmp_path / "expert")
    assert score(experts).resolved == len(TASKS)

    # Memorise the first turn only (max_length cuts the rest: the system prompt and tool schemas take ~1,460
    # tokens): it is the same in every trajectory ("run the tests" and an eval call), so a few steps at a high
    # learning rate teach a random model to call a tool.
    model = random_qwen3("tiny", seed=0)
    trainer = sft(
        experts / "trajectories", tmp_path / "sft", model, tokenizer,
        max_length=1536, max_tokens=100_000, max_steps=40, learning_rate=1e-2, per_device_train_batch_size=1,
        gradient_accumulation_steps=1, gradient_checkpointing=False, lr_scheduler_type="constant", logging_steps=10,
    )  # fmt: skip
    losses = finite_losses(trainer.state.log_history)
    assert losses[-1] < losses[0] / 2, losses

    with serve(tmp_path / "sft") as base_url:
        # Two turns: the memorised one, then noise after a tool response, which may be a malformed <tool_call>:
        # the checkpoint's response template leaves the blocks in the text, so the server still answers.
        run = evaluate(base_url, str(tmp_path / "sft"), ENV, TASKS[:1], tmp_path / "eval", max_steps=2, max_tokens=48)
    result = score(run)
    assert result.episodes == 1 and result.turns == 2
    # The served model's first reply became a tool call that gym-pdb ran.
    (row,) = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert row["error"] == "", row["error"]
    assert result.well_formed >= 1 and row["tool_counts"].get("eval", 0) >= 1, row
    trajectory = json.loads((run / row["trajectory"]).read_text())
    first = next(m for m in trajectory["messages"] if m["role"] == "assistant")
    assert first["tool_calls"][0]["function"]["name"] == "eval"
