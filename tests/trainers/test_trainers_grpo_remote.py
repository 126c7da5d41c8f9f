"""GRPO with the episodes served by ``gym-pdb serve``: the sandboxes run off the training machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from trainers_testlib import SHARED_DATA, finite_losses, require_train_extra

require_train_extra()
pytest.importorskip("openenv", reason="needs the serve extra: pip install 'gym-pdb[serve]'")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))

from servelib import serve_process  # noqa: E402

from trainers.grpo import GRPOTaskArguments, PDBGRPOConfig, build_grpo_trainer  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "mini_nightmare").is_dir(), reason="needs the suite data (GYM_PDB_DATA)"
)


def test_two_steps_on_served_episodes(tokenizer, tiny_model, tmp_path, completion_only_lm_head):
    args = PDBGRPOConfig(
        output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, use_vllm=False, max_steps=2,
        per_device_train_batch_size=2, num_generations=2, gradient_accumulation_steps=1,
        gradient_checkpointing=False, max_completion_length=32, max_tool_calling_iterations=2,
        save_strategy="no", logging_steps=1, seed=0,
    )  # fmt: skip
    with serve_process("--env", "PDB-MiniNightmare-v0", "--max-sessions", "4") as (url, server):
        trainer = build_grpo_trainer(
            tiny_model,
            tokenizer,
            ["PDB-MiniNightmare-v0:config,counter"],
            args=args,
            task_args=GRPOTaskArguments(tool_workers=4, remote=[url]),
        )
        try:
            trainer.train()
            finite_losses(trainer.state.log_history)
            logged = [e for e in trainer.state.log_history if "reward" in e]
            assert len(logged) == 2 and all(e["reward"] == 0.0 for e in logged)
            envs = trainer.environments
            assert len(envs) == 2 and {e.task_id for e in envs} <= {"config", "counter"}
            assert all(e.env.unwrapped.url == url for e in envs)  # served, not local
            assert all(e.finished and e.tests_total > 0 and not e.resolved for e in envs)  # the final test run
            assert all(e.env.unwrapped.state().tests_total > 0 for e in envs)
        finally:
            trainer.close_environments()
        assert server.poll() is None  # the server outlives its clients
