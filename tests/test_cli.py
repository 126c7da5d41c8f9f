"""The gym-pdb command."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from gym_pdb.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_list_prints_suites_with_counts(capsys, data_dir):
    assert main(["list", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "PDB-DebugBench-v0" in out and "1119" in out  # 1126 less the 7 on its exclusion list
    assert "PDB-Demo-v0" in out and "PDB-Custom-v0" in out


def test_list_without_data_says_what_to_do(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GYM_PDB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "no data" in out and "gym-pdb download" in out


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "gym_pdb.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "list" in result.stdout


def test_sandbox_extra_matches_the_image_package_list():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    extra = cfg["options.extras_require"]["sandbox"].split()
    listed = []
    for line in (REPO / "docker" / "packages.txt").read_text().splitlines():
        parts = line.split()
        if parts and not line.startswith("#") and parts[0] == "core":
            listed.append(parts[2])
    assert extra == listed
