"""`gym-pdb eval --profile swe-pdb`: the envs of the run, and so its trajectories, carry SWE-PDB's tools."""

from __future__ import annotations

import json

from gym_pdb.cli import main


def test_eval_in_the_swe_pdb_profile(tmp_path, release, capsys):
    out = tmp_path / "run"
    args = ["eval", "--env", "PDB-Demo-v0", "--agent", "expert", "--tasks", "inventory", "--max-steps", "4",
            "--profile", "swe-pdb", "--output", str(out), "--quiet"]  # fmt: skip
    main(args)
    capsys.readouterr()
    row = json.loads(next((out / "trajectories").rglob("*.json")).read_text())
    tools = {t["function"]["name"]: t["function"] for t in row["tools"]}
    assert list(tools) == ["grep", "pdb", "view", "rewrite", "eval"]  # the expert's tools, in SWE-PDB's set
    assert tools["view"]["parameters"]["additionalProperties"] is False
    assert json.loads((out / "config.json").read_text())["profile"] == "swe-pdb"
    assert main([*args[:-3], "--remote", "ws://127.0.0.1:1", "--output", str(tmp_path / "r2")]) != 0
