"""The reward: one definition, for the env (every mode), ``submit``, the GRPO trainer, the audit and the generator."""

from __future__ import annotations

from gym_pdb.verdict.result import EvalResult

REWARD_MODES = ("sparse", "fraction", "shaped")
INTEGRITY_MODES = ("flag", "strict")


def progress(result: EvalResult | None, integrity: str = "flag") -> float:
    """1.0 for a run that earns, else the fraction passing: what ``fraction`` and ``shaped`` pay."""
    return 1.0 if earns(result, integrity) else fraction(result, integrity)


def earns(result: EvalResult | None, integrity: str = "flag") -> bool:
    """Whether a run pays in full: resolved, untampered, and (``strict``) with no static flag."""
    if result is None or not result.resolved:
        return False
    return not (integrity == "strict" and result.flags)


def fraction(result: EvalResult | None, integrity: str = "flag") -> float:
    """The share of the expected tests that genuinely passed; 0 for a tampered (or, ``strict``, flagged) run."""
    if result is None or not result.total or not result.valid or (integrity == "strict" and result.flags):
        return 0.0
    return result.passed / result.total


def reward(
    result: EvalResult | None, mode: str = "sparse", ended: bool = False, previous: float = 0.0, integrity: str = "flag"
) -> float:
    """The reward of a step whose test run is ``result``.

    ``sparse``: 1.0 when the run earns; ``fraction``: on the step the episode
    ends (``ended``), 1.0 or the fraction passing; ``shaped``: the change in
    that fraction since ``previous`` (so an episode's return is its last run's).
    """
    if mode == "sparse":
        return 1.0 if earns(result, integrity) else 0.0
    if mode == "fraction":
        return progress(result, integrity) if ended else 0.0
    if mode == "shaped":
        return progress(result, integrity) - previous
    raise ValueError(f"reward mode must be one of {REWARD_MODES}, not {mode!r}")
