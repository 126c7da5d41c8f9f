"""The tasks each suite leaves out by default, with the reason for each.

One JSON file per suite folder (``debugbench.json``: ``{task id: reason}``),
written from a full audit (``gym-pdb audit --write-lists``). Loading a suite
with ``include_broken=True`` keeps them.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path


def broken_dir() -> Path:
    return Path(str(resources.files(__name__)))


@functools.lru_cache(maxsize=None)
def load_broken(folder: str) -> dict[str, str]:
    """``task id -> reason`` for the suite folder (empty when it has no list)."""
    path = broken_dir() / f"{folder}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())
