"""benchmarks/bench_trace.py keeps working: a small run prints its figures (it passes or fails nothing itself)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_trace  # noqa: E402 - importable once BENCH is on sys.path


def test_a_small_run_prints_its_figures(tmp_path, monkeypatch, capsys):
    out = tmp_path / "figures.json"
    monkeypatch.setattr(sys, "argv", ["bench_trace.py", "--calls", "3000", "--reps", "1", "--json", str(out)])
    bench_trace.main()
    figures = json.loads(out.read_text())
    assert figures["calls"] == 3000 and figures["eval_ms"] > 0 and figures["trace_ms"] > 0
    assert 0 < figures["observation_chars"] <= figures["output_budget"]
    printed = capsys.readouterr().out
    assert "trace/target" in printed and "3000 calls of workspace functions" in printed
