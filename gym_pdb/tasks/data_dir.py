"""Where suite data is found: ``data_dir=``, then ``GYM_PDB_DATA``, then the user cache."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GYM_PDB_DATA"


class DataNotFoundError(FileNotFoundError):
    """No folder holds the suite's data."""


def user_cache_dir() -> Path:
    """The folder ``gym-pdb download`` fills (``$XDG_CACHE_HOME/gym-pdb``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gym-pdb"


def candidate_roots(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path | None]]:
    """The places looked at, in order, each with how it was named."""
    env = os.environ.get(ENV_VAR)
    return [
        ("the data_dir argument", Path(data_dir).expanduser() if data_dir else None),
        (f"the {ENV_VAR} environment variable", Path(env).expanduser() if env else None),
        ("the user cache (filled by `gym-pdb download`)", user_cache_dir() / "swe-pdb"),
    ]


def resolve_suite_dir(folder: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Find the folder of a suite's tasks.

    Each root may hold the suite folder (``root/debugbench``) or be it.
    """
    tried = []
    for how, root in candidate_roots(data_dir):
        if root is None:
            tried.append(f"  - {how}: not set")
            continue
        for path in (root / folder, root):
            if path.is_dir() and (path.name == folder or path == root / folder):
                return path
        tried.append(f"  - {how}: {root} (no {folder}/ there)")
        if data_dir and how == "the data_dir argument":
            break
    raise DataNotFoundError(
        f"No data for the suite folder {folder!r}. Looked at:\n" + "\n".join(tried) + "\n"
        f"Pass data_dir=..., set {ENV_VAR} to a folder holding {folder}/, "
        "or run `gym-pdb download` to fill the user cache."
    )
