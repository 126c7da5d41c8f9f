"""Supervised fine-tuning of Qwen3 on debugging trajectories: a thin wrapper over ``trl.SFTTrainer``.

The defaults follow the SWE-PDB recipe: learning rate 1e-5, 2 epochs, an
effective batch of 8 (1 per device x 8 accumulation steps on one GPU: scale
``gradient_accumulation_steps`` down as GPUs are added), sequences up to
23,000 tokens, bf16, gradient checkpointing, and the loss on assistant turns
only (TRL swaps in its ``{% generation %}``-marked Qwen3 training template).
LoRA through peft (``--use_peft``) and Liger kernels (used when
``liger-kernel`` is installed and a GPU is present) are optional.

    python -m trainers.sft --config examples/configs/sft_qwen3_8b.yaml
    accelerate launch --config_file examples/accelerate/fsdp_2gpu.yaml -m trainers.sft --config ...
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser, get_peft_config

from .data import load_trajectories
from .models import load_for_training, save_trained

if TYPE_CHECKING:
    from datasets import Dataset
    from peft import PeftConfig
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

__all__ = ["PDBSFTConfig", "SFTDataArguments", "build_sft_trainer", "load_sft_datasets", "main"]


def bf16_default() -> bool:
    """bf16 where the GPU supports it (the recipe), fp32 elsewhere (CPU tests)."""
    try:
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    except Exception:  # pragma: no cover
        return False


def _liger_usable() -> bool:
    if importlib.util.find_spec("liger_kernel") is None:
        return False
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # pragma: no cover
        return False


@dataclass
class PDBSFTConfig(SFTConfig):
    """``SFTConfig`` with the SWE-PDB recipe's defaults."""

    output_dir: str | None = field(default="runs/sft", metadata={"help": "Where checkpoints and the final model go."})
    learning_rate: float = field(default=1e-5, metadata={"help": "Peak learning rate (paper: 1e-5)."})
    num_train_epochs: float = field(default=2.0, metadata={"help": "Epochs (paper: 2)."})
    per_device_train_batch_size: int = field(default=1, metadata={"help": "Trajectories per device and step."})
    gradient_accumulation_steps: int = field(
        default=8, metadata={"help": "Accumulation steps; effective batch = this x per-device batch x GPUs (paper: 8)."}
    )
    max_length: int | None = field(default=23000, metadata={"help": "Maximum tokens per trajectory (paper: 23,000)."})
    assistant_only_loss: bool = field(default=True, metadata={"help": "Loss on assistant turns only."})
    # None until __post_init__ picks the default, a bool from then on.
    use_liger_kernel: bool | None = field(  # type: ignore[assignment]
        default=None,
        metadata={"help": "Liger kernels (default: on when liger-kernel is installed and CUDA is present)."},
    )
    logging_steps: float = field(default=1, metadata={"help": "Log every N steps."})
    save_strategy: str = field(default="epoch", metadata={"help": "When to save checkpoints."})

    def __post_init__(self) -> None:
        if self.bf16 is None and not self.fp16:
            self.bf16 = bf16_default()
        if self.use_liger_kernel is None:
            self.use_liger_kernel = _liger_usable()
        super().__post_init__()


@dataclass
class SFTDataArguments:
    """Which trajectories to train on and how to filter them."""

    train_files: list[str] = field(
        default_factory=list, metadata={"help": "Trajectory files (jsonl/json/parquet), folders or globs."}
    )
    eval_files: list[str] | None = field(
        default=None, metadata={"help": "Validation trajectories; default: hold out `val_size` of train_files."}
    )
    val_size: float = field(default=0.0, metadata={"help": "Fraction (<1) or count of rows held out for validation."})
    resolved_only: bool = field(default=True, metadata={"help": "Train only on trajectories that fixed the bug."})
    max_turns: int | None = field(default=None, metadata={"help": "Drop trajectories with more assistant turns."})
    max_tokens: int | None = field(
        default=None, metadata={"help": "Drop trajectories longer than this (default: max_length, so none is cut)."}
    )
    enable_thinking: bool | None = field(default=None, metadata={"help": "Override the rows' enable_thinking."})
    tokenizer_name_or_path: str | None = field(
        default=None, metadata={"help": "Tokenizer (default: the model's; `offline-qwen3`: the bundled Qwen3 one)."}
    )
    chat_template: str = field(
        default="qwen3", metadata={"help": "`qwen3` (TRL's Qwen3 template), `keep`, or a .jinja path."}
    )
    seed_split: int = field(default=0, metadata={"help": "Seed of the train/validation split."})


def load_sft_datasets(
    data_args: SFTDataArguments, tokenizer: PreTrainedTokenizerBase, max_length: int | None, num_proc: int | None = None
) -> tuple[Dataset, Dataset | None]:
    """Train and (optional) validation datasets for ``data_args``."""
    max_tokens = data_args.max_tokens if data_args.max_tokens is not None else max_length
    common: dict[str, Any] = dict(
        resolved_only=data_args.resolved_only,
        max_turns=data_args.max_turns,
        max_tokens=max_tokens,
        tokenizer=tokenizer if max_tokens is not None else None,
        enable_thinking=data_args.enable_thinking,
        num_proc=num_proc,
    )
    if not data_args.train_files:
        raise ValueError("no training data: set train_files")
    if data_args.eval_files:
        return (
            load_trajectories(data_args.train_files, **common),
            load_trajectories(data_args.eval_files, **common),
        )
    if data_args.val_size:
        split = load_trajectories(
            data_args.train_files, val_size=data_args.val_size, seed=data_args.seed_split, **common
        )
        return split["train"], split["validation"]
    return load_trajectories(data_args.train_files, **common), None


def build_sft_trainer(
    model: PreTrainedModel | str,
    tokenizer: PreTrainedTokenizerBase,
    train_dataset: Dataset,
    eval_dataset: Dataset | None = None,
    args: SFTConfig | None = None,
    peft_config: PeftConfig | None = None,
    **kwargs: Any,
) -> SFTTrainer:
    """An ``SFTTrainer`` over converted trajectories (see :func:`trainers.data.load_trajectories`)."""
    args = args or PDBSFTConfig()
    if eval_dataset is None and args.eval_strategy != "no":
        args.eval_strategy = "no"
    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        **kwargs,
    )


def parse_args(argv: Sequence[str] | None = None) -> tuple[Any, ...]:
    # transformers types the dataclasses as DataClassType, a NewType no class is without a cast.
    parser = TrlParser((SFTDataArguments, PDBSFTConfig, ModelConfig))  # type: ignore[arg-type]
    return parser.parse_args_and_config(args=argv)


def main(argv: Sequence[str] | None = None) -> SFTTrainer:
    data_args, args, model_args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    tokenizer, model = load_for_training(
        model_args, args.trust_remote_code, data_args.tokenizer_name_or_path, data_args.chat_template
    )
    train_dataset, eval_dataset = load_sft_datasets(data_args, tokenizer, args.max_length, args.dataset_num_proc)
    logger.info("SFT on %d trajectories (%s validation)", len(train_dataset), len(eval_dataset or []))
    trainer = build_sft_trainer(model, tokenizer, train_dataset, eval_dataset, args, get_peft_config(model_args))
    trainer.train()
    save_trained(trainer, tokenizer, args.output_dir)
    return trainer


if __name__ == "__main__":
    main(sys.argv[1:])
