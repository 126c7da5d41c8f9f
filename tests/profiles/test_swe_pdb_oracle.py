"""gym-pdb in the `swe-pdb` profile against SWE-PDB's own environment, call by call.

``data/swe_pdb_oracle.json`` is what SWE-PDB's environment answered to the
scripted calls of ``benchmarks/fidelity.py`` (recorded with
``benchmarks/record_swe_pdb.py`` in the venv of ``benchmarks/setup_swe_pdb.sh``;
``python benchmarks/fidelity.py --record tests/profiles/data/swe_pdb_oracle.json``
refreshes it). The observations are compared after the normalisations of
:mod:`gym_pdb.profiles.swe_pdb.normalize`: (1) the episode's working folder
becomes ``<workdir>``; (2) pytest's timings become ``?s``; (3) memory
addresses become ``0x?``; (4) ``\\r\\n`` becomes ``\\n``; (5) the Python
installation's ``.../lib/python3.X/site-packages/`` becomes ``<site-packages>/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gym_pdb.env import PDBEnv
from gym_pdb.profiles.swe_pdb.normalize import normalize

RECORDING = json.loads((Path(__file__).parent / "data" / "swe_pdb_oracle.json").read_text())
#: Every tool's every observation matches SWE-PDB's.
MATCHED = ("view", "rewrite", "grep", "eval", "pdb")


@pytest.mark.parametrize("episode", RECORDING, ids=[e["suite"] for e in RECORDING])
def test_observations_match_swe_pdbs_call_by_call(episode, release):
    env = PDBEnv(suite=episode["suite"], sandbox="local", profile="swe-pdb")
    try:
        prompt, _ = env.reset(options={"task_id": episode["task"]})
        assert prompt == episode["instructions"]  # what SWE-PDB's env said at reset
        workdir = env.sandbox.info.workdir
        compared = 0
        for i, (call, theirs) in enumerate(zip(episode["calls"], episode["observations"], strict=True)):
            ours = env.step({"name": call["name"], "arguments": call["arguments"]})[0]
            if call["name"] in MATCHED:
                assert normalize(ours, workdir) == normalize(theirs, episode["workdir"]), (i, call)
                compared += 1
        assert compared == len(episode["calls"])
    finally:
        env.close()


def test_the_recording_covers_every_suite_and_the_scripted_calls():
    assert {e["suite"] for e in RECORDING} == {
        "MiniNightmare", "DebugBench", "HumanEvalBuggy", "MBPPBuggy", "CanItEdit", "SynDebug"
    }  # fmt: skip
    for episode in RECORDING:
        commands = [c["arguments"].get("command") for c in episode["calls"] if c["name"] == "pdb"]
        assert commands[1] == "start" and {"b", "c", "n", "p 6 * 7"} <= set(commands)
        rewrites = [c["arguments"] for c in episode["calls"] if c["name"] == "rewrite"]
        assert any(r["new_code"] == "" for r in rewrites) and any(r["new_code"] == "# appended" for r in rewrites)
        assert [c["name"] for c in episode["calls"]].count("eval") == 2
    assert "1 passed" in RECORDING[2]["observations"][-1]  # a passing eval
