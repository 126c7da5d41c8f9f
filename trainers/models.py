"""Model loading, including randomly initialised Qwen3 models for offline tests and benchmarks.

``model_name_or_path`` may be a hub id or a local folder (loaded with
``AutoModelForCausalLM``), or ``random-qwen3:<size>`` for a Qwen3 built from
``Qwen3Config`` with random weights (sizes: ``tiny``, ``0.6b``): tests and the
GPU check use these, as no hub is reachable there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Qwen3Config

RANDOM_PREFIX = "random-qwen3:"

# Qwen3-0.6B's architecture (its config.json), with the real vocabulary size.
QWEN3_SIZES: dict[str, dict[str, Any]] = {
    "tiny": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
    ),
    "0.6b": dict(
        hidden_size=1024,
        intermediate_size=3072,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=8,
        head_dim=128,
    ),
}


def qwen3_config(size: str = "tiny", **overrides: Any) -> Qwen3Config:
    from transformers import Qwen3Config

    size = size.lower()
    if size not in QWEN3_SIZES:
        raise ValueError(f"unknown random Qwen3 size {size!r}; choose from {sorted(QWEN3_SIZES)}")
    kwargs: dict[str, Any] = dict(
        vocab_size=151936,
        max_position_embeddings=40960,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        bos_token_id=151643,
        eos_token_id=151645,
        pad_token_id=151643,
    )
    kwargs.update(QWEN3_SIZES[size])
    kwargs.update(overrides)
    return Qwen3Config(**kwargs)


def random_qwen3(size: str = "tiny", seed: int = 0, dtype: torch.dtype | None = None, **overrides: Any) -> PreTrainedModel:
    """A Qwen3 causal LM with random weights (deterministic for a seed)."""
    import torch
    from transformers import AutoModelForCausalLM

    config = qwen3_config(size, **overrides)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype or torch.float32)
    model.generation_config.eos_token_id = [151645, 151643]
    model.generation_config.pad_token_id = 151643
    return model


def is_random_spec(name_or_path: str | None) -> bool:
    return bool(name_or_path) and str(name_or_path).startswith(RANDOM_PREFIX)


def tokenizer_for(name_or_path: str | None) -> str | None:
    """Where a model's tokenizer comes from: itself, or the offline Qwen3 one for random models."""
    return "offline-qwen3" if is_random_spec(name_or_path) else name_or_path


def load_model(name_or_path: str, dtype: str | None = "auto", attn_implementation: str | None = None, **kwargs: Any) -> PreTrainedModel:
    """Load a causal LM by hub id / folder, or build a random one from ``random-qwen3:<size>``."""
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = None
    if dtype not in (None, "auto"):
        torch_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    if is_random_spec(name_or_path):
        return random_qwen3(name_or_path[len(RANDOM_PREFIX) :], dtype=torch_dtype)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    init = dict(kwargs)
    init["dtype"] = torch_dtype if torch_dtype is not None else "auto"
    if attn_implementation:
        init["attn_implementation"] = attn_implementation
    return AutoModelForCausalLM.from_pretrained(name_or_path, **init)


def load_for_training(model_args: Any, trust_remote_code: bool, tokenizer_name_or_path: str | None, chat_template: str
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """The tokenizer (with its chat template) and the model named by TRL's ``ModelConfig``."""
    from .tokenizer import load_tokenizer

    if not model_args.model_name_or_path:
        raise SystemExit("set model_name_or_path (a hub id, a folder, or random-qwen3:tiny)")
    tokenizer = load_tokenizer(
        tokenizer_name_or_path or tokenizer_for(model_args.model_name_or_path), chat_template=chat_template
    )
    model = load_model(
        model_args.model_name_or_path,
        dtype=model_args.dtype,
        attn_implementation=model_args.attn_implementation,
        revision=model_args.model_revision,
        trust_remote_code=trust_remote_code,
    )
    return tokenizer, model


def save_trained(trainer: Any, tokenizer: Any, output_dir: str) -> None:
    """Save the model, and the tokenizer from the main process."""
    trainer.save_model(output_dir)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(output_dir)
