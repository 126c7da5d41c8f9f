"""The `swe-pdb` profile reads SWE-PDB's texts from its release: ../shared/reference/swe-pdb-agent in development."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gym_pdb.profiles.swe_pdb.release import RELEASE_ENV

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "swe-pdb-agent"
if not os.environ.get(RELEASE_ENV) and REFERENCE.is_dir():
    os.environ[RELEASE_ENV] = str(REFERENCE)


@pytest.fixture(scope="session")
def release() -> Path:
    from gym_pdb.profiles.swe_pdb.release import find_release
    from gym_pdb.tasks.data_dir import DataNotFoundError

    try:
        path = find_release()
    except DataNotFoundError:
        path = REFERENCE
    if not (path / "debug_gym").is_dir():
        pytest.fail(f"SWE-PDB's release not found at {path}: set {RELEASE_ENV} or run gym-pdb download swe-pdb-agent")
    return path
