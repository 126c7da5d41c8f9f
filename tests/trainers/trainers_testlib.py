"""Helpers shared by the trainer tests (a plain module: tests/ is not a package)."""

from __future__ import annotations

import math
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TRAJECTORIES = HERE / "data" / "trajectories.jsonl"
SHARED_DATA = Path(os.environ.get("GYM_PDB_DATA") or REPO.parent / "shared" / "data" / "swe-pdb")


def finite_losses(log_history) -> list[float]:
    """The logged training losses, checked to be finite."""
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    assert losses, f"no loss was logged: {log_history}"
    assert all(math.isfinite(x) for x in losses), losses
    return losses
