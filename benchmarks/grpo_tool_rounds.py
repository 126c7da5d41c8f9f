"""What running the tool calls of a GRPO batch in parallel is worth: seconds per rollout, sequential vs threads.

TRL 1.16 runs the tool calls of a batch's generations one after another.
``PDBGRPOTrainer`` (through :mod:`trainers.trl_compat`) runs each turn's calls
of all generations in a thread pool, and the resets and final test runs too.
This times ``_generate_and_score_completions`` (the rollout of one GRPO step,
plus the old-logprob pass) for batches of 8 and 32 generations with
``tool_workers=0`` (TRL's own loop) and ``tool_workers=32``. Generation is
scripted (canned token ids for a fixed episode: start pdb, a breakpoint,
continue, print, run the tests), so the numbers are the tool side's alone; a
real model adds its generation time, the same in both columns.

    python benchmarks/grpo_tool_rounds.py [--generations 8 32] [--workers 32] [--reps 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


SCRIPT = [
    "<think>\n\n</think>\n\n" + call("pdb", command="start", runner="pytest", file="test.py")
    + "\n" + call("pdb", command="b config_code.py:20"),
    "<think>\n\n</think>\n\n" + call("pdb", command="c") + "\n" + call("pdb", command="p name, self._cache"),
    "<think>\n\n</think>\n\n" + call("view", path="config_code.py", start=1, end=40) + "\n" + call("eval"),
    "<think>\n\n</think>\n\nDone.",
]  # fmt: skip


def rollout_seconds(generations: int, workers: int, reps: int) -> list[float]:
    from trainers.grpo import GRPOTaskArguments, PDBGRPOConfig, build_grpo_trainer
    from trainers.models import random_qwen3
    from trainers.tokenizer import offline_qwen3_tokenizer

    tokenizer = offline_qwen3_tokenizer()
    texts = [tokenizer.encode(t + "<|im_end|>", add_special_tokens=False) for t in SCRIPT]

    def scripted(prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        return [texts[tokenizer.decode(ids).count("<|im_start|>assistant") - 1] for ids in prompt_ids], None

    args = PDBGRPOConfig(
        output_dir="/tmp/grpo_tool_rounds", use_cpu=True, bf16=False, use_vllm=False, max_steps=1,
        per_device_train_batch_size=generations, num_generations=generations, max_completion_length=8192,
        max_tool_calling_iterations=10, gradient_checkpointing=False, save_strategy="no", report_to="none",
    )  # fmt: skip
    trainer = build_grpo_trainer(
        random_qwen3("tiny"), tokenizer, ["PDB-MiniNightmare-v0:config"], args=args,
        task_args=GRPOTaskArguments(tool_workers=workers),
    )  # fmt: skip
    trainer._generate_single_turn = scripted
    rows = [trainer.train_dataset[0]] * generations
    times = []
    try:
        for _ in range(reps + 1):  # the first batch creates the environments: not timed
            start = time.perf_counter()
            output = trainer._generate_and_score_completions(rows)
            times.append(time.perf_counter() - start)
            assert all(env.tool_calls == 6 for env in trainer.environments), "an episode did not run its calls"
            assert output["completion_ids"].shape[0] == generations
    finally:
        trainer.close_environments()
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--reps", type=int, default=1)
    opts = parser.parse_args()
    print(f"cores: {os.cpu_count()}; episode: 6 tool calls in 3 turns + the final state; scripted generation")
    for n in opts.generations:
        sequential = min(rollout_seconds(n, 0, opts.reps))
        parallel = min(rollout_seconds(n, opts.workers, opts.reps))
        print(
            f"{n:>3} generations: TRL's sequential loop {sequential:6.1f} s, {opts.workers} threads {parallel:6.1f} s"
            f" -> {sequential / parallel:4.1f}x"
        )


if __name__ == "__main__":
    main()
