"""benchmarks/fidelity.py: the checked-in recording is what SWE-PDB's environment answers today.

Runs only where SWE-PDB's venv exists (benchmarks/setup_swe_pdb.sh; not in CI,
where tests/profiles/ compares gym-pdb with the checked-in recording): one
suite's scripted episode is recorded afresh and compared with the fixture.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import fidelity  # noqa: E402 - importable once benchmarks/ is on sys.path

from gym_pdb.profiles.swe_pdb.normalize import normalize  # noqa: E402
from gym_pdb.profiles.swe_pdb.release import RELEASE_ENV  # noqa: E402

VENV = Path(os.environ.get("SWE_PDB_VENV", "/work/venv-swepdb"))
FIXTURE = REPO / "tests" / "profiles" / "data" / "swe_pdb_oracle.json"
REFERENCE = REPO.parent / "shared" / "reference" / "swe-pdb-agent"


@pytest.mark.skipif(not (VENV / "bin" / "python").exists(), reason="no SWE-PDB venv (benchmarks/setup_swe_pdb.sh)")
def test_a_fresh_recording_equals_the_fixture(data_dir, monkeypatch):
    if not os.environ.get(RELEASE_ENV) and REFERENCE.is_dir():
        monkeypatch.setenv(RELEASE_ENV, str(REFERENCE))
    from gym_pdb.profiles.swe_pdb.release import find_release

    episodes = [e for e in fidelity.script(data_dir, find_release()) if e["suite"] == "HumanEvalBuggy"]
    fresh = fidelity.record(episodes, VENV)[0]
    kept = next(e for e in json.loads(FIXTURE.read_text()) if e["suite"] == "HumanEvalBuggy")
    assert fresh["calls"] == kept["calls"] and fresh["instructions"] == kept["instructions"]
    for i, (new, old) in enumerate(zip(fresh["observations"], kept["observations"], strict=True)):
        assert normalize(new, fresh["workdir"]) == normalize(old, kept["workdir"]), i
    for agent, prompt in kept["system_prompts"].items():  # its agents' system prompts too
        made = fresh["system_prompts"][agent]
        assert normalize(made["content"], made["workdir"]) == normalize(prompt["content"], prompt["workdir"]), agent
