"""Evaluate agents on the suites: ``gym-pdb eval``, ``summarize`` and ``replay``."""

from __future__ import annotations

from gym_pdb.evaluation.config import EvalConfig
from gym_pdb.evaluation.replay import ReplayReport, replay
from gym_pdb.evaluation.runner import EvalError, RunResult, run_eval
from gym_pdb.evaluation.summary import read_results, summarize

__all__ = ["EvalConfig", "EvalError", "ReplayReport", "RunResult", "read_results", "replay", "run_eval", "summarize"]
