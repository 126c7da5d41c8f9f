"""Does the training pipeline learn? Expert trajectories, SFT, GRPO, each stage served and evaluated.

On 8 fixed PDB-Synthetic-v0 tasks (the shortest expert episodes of a sample,
~2.3-2.6k tokens each with the 4 tools offered) and 4 held-out ones:

1. ``gym-pdb eval --agent expert`` collects the trajectories (tools: eval, view, pdb, rewrite);
2. a random Qwen3 (real Qwen3 tokenizer, tied embeddings, float32) is served as it is and evaluated;
3. ``trainers.sft`` fits it on the trajectories; served with ``transformers serve``, ``gym-pdb eval
   --agent debug_agent`` runs it greedily on the training and held-out tasks;
4. ``trainers.grpo`` continues from the SFT checkpoint on live episodes of the training tasks (sampled at
   temperature 1); the first and last 64 sampled episodes' resolved rates are compared; evaluated again.

It prints one line per stage and draws the learning curves (``curves.png`` in the output folder).

    python benchmarks/learning_cpu.py                      # the CPU benchmark (see benchmarks/README.md)
    python benchmarks/learning_cpu.py --smoke              # a few steps of everything: checks it runs
    python benchmarks/learning_cpu.py --size gpu           # a larger model, for a GPU machine
"""

from __future__ import annotations

import argparse
import json
import importlib.util
import os
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
for key, value in {"TRL_EXPERIMENTAL_SILENCE": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
                   "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
                   "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}.items():  # fmt: skip
    os.environ.setdefault(key, value)

ENV = "PDB-Synthetic-v0"
TRAIN = [f"syn-train-{n}" for n in (
    3524583430985860040, 8144900997415551776, 8206391887579712273, 1603949432742909794,
    7594866689087691768, 5405189211438583857, 3073610345886119703, 3641619288147527086,
)]  # fmt: skip
HELD_OUT = [f"syn-train-{n}" for n in (4135899693913103840, 151021099137259518, 5440957655691332302, 4367697727015438591)]
TOOLS = ["eval", "view", "pdb", "rewrite"]
# Besides the embeddings (152k x hidden, tied with the LM head): cpu 2.5M parameters, gpu 31M.
SIZES = {
    "cpu": dict(hidden_size=64, intermediate_size=1536, num_hidden_layers=8, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16),
    "gpu": dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=8, num_attention_heads=8,
                num_key_value_heads=4, head_dim=64),
}  # fmt: skip


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--demos", type=int, default=2, help="expert runs per training task (addresses differ)")
    parser.add_argument("--epochs", type=float, default=20, help="SFT epochs over every demonstration")
    parser.add_argument("--lr", type=float, default=1e-2, help="SFT learning rate (3e-3 is too slow here: README)")
    parser.add_argument("--grpo-steps", type=int, default=16, help="GRPO steps of 8 episodes")
    parser.add_argument("--grpo-lr", type=float, default=5e-5, help="2e-3 wrecks the SFT model in 3 steps: README")
    parser.add_argument("--grpo-temperature", type=float, default=0.7,
                        help="sampling temperature of GRPO's episodes (at 1.0 the SFT model resolves almost none: README)")
    parser.add_argument("--sft-checkpoint", help="start at GRPO from this SFT checkpoint (a run's sft folder)")
    parser.add_argument("--max-length", type=int, default=2816, help="SFT tokens per trajectory")
    parser.add_argument("--max-tokens", type=int, default=160, help="tokens per reply in evaluation (expert: < 120)")
    parser.add_argument("--output", help="run folder (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="1 SFT epoch, 1 GRPO step, 2+1 tasks: checks it runs")
    opts = parser.parse_args(argv)
    if opts.smoke:
        opts.epochs, opts.grpo_steps, opts.demos = min(opts.epochs, 1), min(opts.grpo_steps, 1), 1
    return opts


def supervised(opts: argparse.Namespace, out: Path, train: list[str], held_out: list[str], tokenizer: Any,
               stage: Callable[[str, Path], None]) -> list[dict[str, Any]]:  # fmt: skip
    """Expert trajectories, the random base model (evaluated), SFT into ``out/sft`` (evaluated); SFT's log."""
    import torch

    from trainers.models import random_qwen3
    from trainers.pipeline import collect, save_untrained, score, sft

    experts = collect(ENV, train + held_out, out / "expert", tools=TOOLS)
    print(f"expert: {score(experts).line()}", flush=True)
    # SFT sees the training tasks' trajectories only, each task's `--demos` of them: the same calls, with
    # observations that differ where the program prints memory addresses (pytest's "where 41 = <function
    # f at 0x7f...>"), which one demonstration per task teaches a small model to depend on.
    runs = [experts] + [collect(ENV, train, out / f"expert-{k}", tools=TOOLS) for k in range(2, opts.demos + 1)]
    traj = out / "expert-train"
    traj.mkdir(exist_ok=True)
    for k, run in enumerate(runs, 1):
        for path in (run / "trajectories").rglob("*.json"):
            if json.loads(path.read_text()).get("task_id") in train:
                (traj / f"{path.stem}-{k}.json").write_text(path.read_text())

    model = random_qwen3("tiny", seed=0, **SIZES[opts.size])
    if torch.cuda.is_available():
        model = model.cuda()
    inner = sum(p.numel() for p in model.parameters()) - model.get_input_embeddings().weight.numel()
    print(f"model: random Qwen3, {inner / 1e6:.1f}M parameters besides the embeddings", flush=True)
    save_untrained(model, tokenizer, out / "base")
    stage("base", out / "base")
    trainer = sft(
        traj, out / "sft", model, tokenizer, labelled_head=True, max_length=opts.max_length, num_train_epochs=opts.epochs,
        learning_rate=opts.lr, per_device_train_batch_size=1, gradient_accumulation_steps=1,
        gradient_checkpointing=False, lr_scheduler_type="cosine", warmup_steps=8, logging_steps=len(train) * opts.demos,
    )  # fmt: skip
    stage("sft", out / "sft")
    return trainer.state.log_history


def main(argv: list[str] | None = None) -> dict[str, object]:
    opts = parse(argv)
    warnings.filterwarnings("ignore")
    # A timeout's SIGTERM unwinds through the `finally` blocks, which stop the transformers serve children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import torch

    from trainers.pipeline import evaluate, grpo, plot_curves, score, serve, wilson
    from trainers.tokenizer import offline_qwen3_tokenizer

    start = time.monotonic()
    out = Path(opts.output or tempfile.mkdtemp(prefix="learning_"))
    out.mkdir(parents=True, exist_ok=True)
    train, held_out = (TRAIN[:2], HELD_OUT[:1]) if opts.smoke else (TRAIN, HELD_OUT)
    results: dict[str, object] = {}
    histories: dict[str, list] = {}
    tokenizer = offline_qwen3_tokenizer()

    def stage(name: str, checkpoint: Path) -> None:
        with serve(checkpoint, device="cuda" if torch.cuda.is_available() else "cpu") as url:
            runs = [evaluate(url, str(checkpoint), ENV, tasks, out / f"eval-{name}-{split}", tools=TOOLS,
                             max_tokens=opts.max_tokens)
                    for split, tasks in (("train", train), ("held-out", held_out))]  # fmt: skip
        a, b = (score(run) for run in runs)
        results[name] = {"train": vars(a), "held_out": vars(b), "minutes": round((time.monotonic() - start) / 60, 1)}
        print(f"{name}: train {a.line()}; held-out {b.line()} [{results[name]['minutes']} min]", flush=True)

    checkpoint = Path(opts.sft_checkpoint) if opts.sft_checkpoint else out / "sft"
    if not opts.sft_checkpoint:
        histories["sft"] = supervised(opts, out, train, held_out, tokenizer, stage)

    trainer = grpo(
        checkpoint, ENV, train, out / "grpo", tokenizer, TOOLS, max_steps=opts.grpo_steps, learning_rate=opts.grpo_lr,
        num_generations=8, per_device_train_batch_size=8, max_completion_length=2048, temperature=opts.grpo_temperature,
        logging_steps=1,
    )  # fmt: skip
    histories["grpo"] = trainer.state.log_history
    rewards = [e["reward"] for e in trainer.state.log_history if "reward" in e]
    window = min(8, len(rewards))  # 8 steps of 8 episodes: 64 sampled episodes
    first, last = (round(sum(r) * 8) for r in (rewards[:window], rewards[-window:]))
    n = 8 * window
    lo1, hi1 = wilson(first, n)
    lo2, hi2 = wilson(last, n)
    print(f"grpo sampled: first {n} episodes {100 * first / n:.1f}% [{100 * lo1:.0f}-{100 * hi1:.0f}%], "
          f"last {n} {100 * last / n:.1f}% [{100 * lo2:.0f}-{100 * hi2:.0f}%] ({len(rewards)} steps)", flush=True)  # fmt: skip
    results["grpo_sampled"] = {"first": first, "last": last, "episodes": n, "rewards": rewards}
    stage("grpo", out / "grpo")

    if importlib.util.find_spec("matplotlib") is not None:
        plot_curves(histories, out / "curves.png")
    results["minutes"] = round((time.monotonic() - start) / 60, 1)
    (out / "learning.json").write_text(json.dumps(results, indent=2))
    print(f"done in {results['minutes']} min; results: {out / 'learning.json'}, curves: {out / 'curves.png'}", flush=True)
    return results


if __name__ == "__main__":
    main()
