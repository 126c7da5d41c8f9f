"""The training pipeline end to end, with the real parts: collect, SFT, serve, evaluate.

- :func:`collect` and :func:`evaluate` run the ``gym-pdb eval`` command (the
  expert for trajectories; ``debug_agent`` against a served checkpoint);
- :func:`sft` trains with :mod:`trainers.sft` on the trajectories of a run;
- :func:`serve` starts ``transformers serve`` (transformers' own
  OpenAI-compatible server) on a checkpoint, on loopback, for as long as the block runs;
- :func:`grpo` continues a checkpoint with :mod:`trainers.grpo` on live episodes
  of the same tasks, with the tools and system prompt ``gym-pdb eval`` used;
- :func:`plot_curves` draws the training losses and GRPO rewards of a run.

A checkpoint is saved with TRL's Qwen3 *training* template, so the server
renders an episode's history exactly as SFT and GRPO tokenised it: the
original template drops the empty ``<think>`` blocks of earlier turns, which
the training template keeps (``tests/trainers/test_trainers_tokens.py``).
It is also saved with a response template (:data:`TEXT_TOOL_CALLS`) that
leaves the ``<tool_call>`` blocks in the reply's text: ``transformers serve``
(5.24) answers HTTP 500 to a whole request when the JSON of a block does not
parse, so a model that writes a malformed call, as a small one learning
does, would get no reply at all; ``gym-pdb eval``'s client reads the blocks
from the text and counts a malformed one as such.
``benchmarks/learning_cpu.py`` and ``tests/trainers/test_trainers_pipeline.py``
are built from these functions.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: transformers' response template for Qwen3 without its ``tool_calls`` field: thinking apart, the rest as text.
TEXT_TOOL_CALLS = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|im_start|>assistant\n",
    "fields": {
        "reasoning_content": {"open": "<think>", "close": "</think>", "content": "text"},
        "content": {"close_pattern": r"\s*(?:<\|im_end\|>|<\|endoftext\|>)", "content": "text"},
    },
}

__all__ = ["TEXT_TOOL_CALLS", "RunScore", "collect", "evaluate", "grpo", "plot_curves", "score", "serve", "sft", "wilson"]

ENV = {
    "TRL_EXPERIMENTAL_SILENCE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def _gym_pdb(args: Sequence[str], timeout: float) -> None:
    cmd = [sys.executable, "-m", "gym_pdb.cli", "eval", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **ENV})
    if proc.returncode != 0:
        raise RuntimeError(f"gym-pdb eval failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-3000:]}")


def collect(
    env: str,
    tasks: Sequence[str],
    output: str | os.PathLike[str],
    timeout: float = 600,
    tools: Sequence[str] | None = None,
) -> Path:
    """Expert trajectories of ``tasks`` (ids of ``env``) with ``gym-pdb eval --agent expert``.

    ``tools``: the tools the env offers (default: the expert's); fewer tools make shorter prompts.
    """
    args = ["--env", env, "--agent", "expert", "--tasks", *tasks, "--output", str(output)]
    _gym_pdb(args + (["--tools", *tools] if tools else []), timeout)
    return Path(output)


def evaluate(
    base_url: str,
    model: str,
    env: str,
    tasks: Sequence[str],
    output: str | os.PathLike[str],
    max_steps: int = 12,
    max_tokens: int = 256,
    temperature: float = 0.0,
    timeout: float = 1200,
    tools: Sequence[str] | None = None,
) -> Path:
    """``gym-pdb eval --agent debug_agent`` of ``model`` on an OpenAI-compatible server (greedy at temperature 0)."""
    args = ["--env", env, "--agent", "debug_agent", "--tasks", *tasks, "--output", str(output)]
    args += ["--tools", *tools] if tools else []
    args += ["--base-url", base_url, "--model", model, "--max-steps", str(max_steps), "--max-tokens", str(max_tokens)]
    args += ["--temperature", str(temperature), "--no-thinking", "-p", "llm.context_tokens=32768"]
    args += ["-p", "llm.history_calls=text"]  # transformers serve drops the text of a turn with tool_calls
    _gym_pdb(args, timeout)
    return Path(output)


@dataclass
class RunScore:
    """What a ``gym-pdb eval`` run folder says: resolved episodes, and turns with well-formed tool calls."""

    resolved: int
    episodes: int
    turns: int
    well_formed: int

    @property
    def rate(self) -> float:
        return self.resolved / self.episodes if self.episodes else 0.0

    def line(self) -> str:
        low, high = wilson(self.resolved, self.episodes)
        calls = self.well_formed / self.turns if self.turns else 0.0
        return (
            f"{100 * self.rate:.1f}% ({self.resolved}/{self.episodes}) [95% CI {100 * low:.0f}-{100 * high:.0f}%], "
            f"well-formed tool calls {100 * calls:.0f}% ({self.well_formed}/{self.turns} turns)"
        )


def score(run_dir: str | os.PathLike[str]) -> RunScore:
    """Resolved episodes and well-formed tool-call turns of a run (its ``results.jsonl``)."""
    rows = [json.loads(line) for line in (Path(run_dir) / "results.jsonl").read_text().splitlines() if line.strip()]
    calls = sum(sum(r.get("tool_counts", {}).values()) - r.get("parse_errors", 0) for r in rows)
    return RunScore(
        resolved=sum(bool(r["resolved"]) for r in rows),
        episodes=len(rows),
        turns=sum(r.get("turns", 0) for r in rows),
        well_formed=max(0, calls),
    )


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson 95% interval of a rate ``k/n``."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def sft(
    trajectories: str | os.PathLike[str],
    output: str | os.PathLike[str],
    model: Any,
    tokenizer: Any,
    max_tokens: int | None = None,
    labelled_head: bool = False,
    **config: Any,
) -> Any:
    """SFT ``model`` on a run's trajectories (:mod:`trainers.sft`); saves model and tokenizer to ``output``.

    ``config`` are :class:`trainers.sft.PDBSFTConfig` fields. Trajectories longer than ``max_tokens`` (default:
    ``max_length``) are left out; those between ``max_length`` and ``max_tokens`` are cut to ``max_length``.
    ``labelled_head``: on CPU, project only the assistant positions onto the vocabulary (see
    :func:`_completion_only_lm_head`; the same loss up to float rounding, several times faster; it stays on
    for the process). Returns the trainer.
    """
    import torch

    from .data import load_trajectories
    from .sft import PDBSFTConfig, build_sft_trainer

    cpu = not torch.cuda.is_available()
    if cpu and labelled_head:
        _completion_only_lm_head()
    args = PDBSFTConfig(
        **{"output_dir": str(output), "use_cpu": cpu, "bf16": False if cpu else None, "save_strategy": "no", "report_to": "none",
           "dataloader_num_workers": 0, "disable_tqdm": True, **config}
    )  # fmt: skip
    rows = load_trajectories(trajectories, max_tokens=max_tokens or args.max_length, tokenizer=tokenizer)
    trainer = build_sft_trainer(model, tokenizer, rows, args=args)
    trainer.train()
    save_checkpoint(trainer, tokenizer, output)
    return trainer


def save_checkpoint(trainer: Any, tokenizer: Any, output: str | os.PathLike[str]) -> None:
    """Save the trained model with the training chat template (see the module's docstring)."""
    from .models import save_trained
    from .tokenizer import trl_chat_template

    original = tokenizer.chat_template, getattr(tokenizer, "response_template", None)
    tokenizer.chat_template, tokenizer.response_template = trl_chat_template("qwen3_training"), TEXT_TOOL_CALLS
    try:
        save_trained(trainer, tokenizer, str(output))
    finally:
        tokenizer.chat_template, tokenizer.response_template = original
    generation = Path(output) / "generation_config.json"
    if generation.is_file():  # greedy unless a request says otherwise; stop at the end of a turn
        config = json.loads(generation.read_text())
        config.update(do_sample=False, eos_token_id=[151645, 151643])
        generation.write_text(json.dumps(config, indent=2))


def save_untrained(model: Any, tokenizer: Any, output: str | os.PathLike[str]) -> None:
    """Save a model as it is (the base of a run) the way :func:`save_checkpoint` saves a trained one."""
    from types import SimpleNamespace

    trainer = SimpleNamespace(save_model=model.save_pretrained, accelerator=SimpleNamespace(is_main_process=True))
    save_checkpoint(trainer, tokenizer, output)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(checkpoint: str | os.PathLike[str], startup_timeout: float = 180, device: str = "cpu") -> Iterator[str]:
    """``transformers serve CHECKPOINT`` on 127.0.0.1 (CPU in float32, else bf16); yields its ``/v1`` URL, stops it
    afterwards."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "transformers.cli.transformers", "serve", str(checkpoint),
        "--host", "127.0.0.1", "--port", str(port), "--device", device,
        "--dtype", "float32" if device == "cpu" else "bfloat16",
    ]  # fmt: skip
    log = open(Path(checkpoint) / "serve.log", "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **ENV})
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({proc.returncode}): see {log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"transformers serve did not answer in {startup_timeout:.0f} s: see {log.name}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def grpo(
    checkpoint: str | os.PathLike[str],
    env: str,
    tasks: Sequence[str],
    output: str | os.PathLike[str],
    tokenizer: Any,
    tools: Sequence[str],
    max_tool_calls: int = 12,
    **config: Any,
) -> Any:
    """GRPO (:mod:`trainers.grpo`) of ``checkpoint`` on live episodes of ``tasks``; saves to ``output``.

    The episodes offer ``tools`` under ``gym-pdb eval``'s debug_agent system prompt, so the model sees
    the context it saw in SFT and will see when served. ``config`` are :class:`trainers.grpo.PDBGRPOConfig`
    fields (HF generation: no vLLM here). Returns the trainer, whose ``state.log_history`` holds the rewards.
    """
    import torch
    from transformers import AutoModelForCausalLM

    from .grpo import GRPOTaskArguments, PDBGRPOConfig, build_grpo_trainer

    cpu = not torch.cuda.is_available()
    if cpu:
        _completion_only_lm_head()
    args = PDBGRPOConfig(
        **{"output_dir": str(output), "use_cpu": cpu, "bf16": False if cpu else None, "use_vllm": False,
           "save_strategy": "no", "report_to": "none", "disable_tqdm": True, "max_tool_calling_iterations": max_tool_calls,
           **config}
    )  # fmt: skip
    task_args = GRPOTaskArguments(
        tools=list(tools), max_tool_calls=max_tool_calls, tool_workers=8, enable_thinking=False
    )
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=torch.float32 if cpu else torch.bfloat16)
    trainer = build_grpo_trainer(model, tokenizer, [f"{env}:{','.join(tasks)}"], args=args, task_args=task_args)
    try:
        trainer.train()
    finally:
        trainer.close_environments()
    save_checkpoint(trainer, tokenizer, output)
    return trainer


def _completion_only_lm_head() -> None:
    """On CPU, score only the labelled positions in TRL's fused log-prob head (SFT and GRPO), as on GPU.

    TRL's chunked head projects every position onto Qwen3's 152k-token vocabulary except on Triton devices
    (to keep tile shapes fixed for compilers); the loss is the same, a CPU step several times slower, since
    only the assistant tokens (SFT) or completion tokens (GRPO) carry a label. The same switch as
    ``tests/trainers/conftest.py``'s ``completion_only_lm_head``; skipped if TRL renamed it.
    """
    import trl.trainer.utils as trl_utils

    if hasattr(trl_utils, "_use_triton"):
        trl_utils._use_triton = lambda device: True


def plot_curves(histories: dict[str, list[dict[str, Any]]], path: str | os.PathLike[str]) -> Path:
    """A PNG of each stage's learning curve: the training loss (SFT) and the mean reward (GRPO) per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(histories), figsize=(5 * len(histories), 3.5), squeeze=False)
    for ax, (stage, history) in zip(axes[0], histories.items(), strict=False):
        for key in ("loss", "reward"):
            points = [(e["step"], e[key]) for e in history if key in e and "step" in e]
            if points:
                ax.plot(*zip(*points, strict=True), marker=".", label=key)
        ax.set_title(stage)
        ax.set_xlabel("step")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
