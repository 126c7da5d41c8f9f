"""Thin TRL wrappers that train Qwen3 on gym-pdb: SFT on trajectories, GRPO on live episodes.

Needs the ``train`` extra (``pip install 'gym-pdb[train]'``; vLLM generation on GPU: ``[vllm]``).

- :mod:`trainers.data`: trajectories (OpenAI messages + tools) -> TRL's conversational tool-calling datasets.
- :mod:`trainers.sft`: ``python -m trainers.sft --config ...`` (``trl.SFTTrainer``).
- :mod:`trainers.env`: gym-pdb episodes as TRL environments (``environment_factory``).
- :mod:`trainers.grpo`: ``python -m trainers.grpo --config ...`` (``trl.GRPOTrainer``).
- :mod:`trainers.trl_compat`: the one place that touches TRL's private internals (parallel tool calls).
- :mod:`trainers.pipeline`: collect with ``gym-pdb eval``, SFT, ``transformers serve``, evaluate.
- :mod:`trainers.tokenizer`, :mod:`trainers.models`: Qwen3 chat templates, offline tokenizer, random models.

Submodules are imported on first use, so ``import trainers`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_trajectories": "trainers.data",
    "convert_trajectory": "trainers.data",
    "PDBSFTConfig": "trainers.sft",
    "build_sft_trainer": "trainers.sft",
    "PDBGRPOConfig": "trainers.grpo",
    "PDBGRPOTrainer": "trainers.grpo",
    "build_grpo_trainer": "trainers.grpo",
    "PDBToolEnv": "trainers.env",
    "env_factory": "trainers.env",
    "load_tasks": "trainers.env",
    "load_tokenizer": "trainers.tokenizer",
    "offline_qwen3_tokenizer": "trainers.tokenizer",
    "random_qwen3": "trainers.models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'trainers' has no attribute {name!r}")
