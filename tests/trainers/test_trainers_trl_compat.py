"""The TRL internals that trainers.trl_compat relies on: present in the installed TRL, and the check can tell.

A TRL release that renames ``_tool_call_loop``, changes its parameters or stops
assigning one of the attributes fails here, by name, rather than making GRPO
silently sequential (the trainer warns and falls back to TRL's loop then).
"""

from __future__ import annotations

from trainers_testlib import require_train_extra

require_train_extra()

from trl import GRPOTrainer  # noqa: E402

from trainers.grpo import PDBGRPOTrainer  # noqa: E402
from trainers.trl_compat import TRL_INTERNALS, ParallelToolCalls, trl_internals_problems  # noqa: E402


def test_the_installed_trl_has_every_internal_relied_on():
    assert trl_internals_problems() == [], "update trainers/trl_compat.py for this TRL release"
    assert issubclass(PDBGRPOTrainer, ParallelToolCalls) and issubclass(PDBGRPOTrainer, GRPOTrainer)
    # The overrides are the only private TRL methods a gym-pdb trainer defines.
    private = {
        name
        for cls in PDBGRPOTrainer.__mro__
        if cls.__module__.startswith("trainers.")
        for name in vars(cls)
        if name.startswith("_") and not name.startswith("__") and hasattr(GRPOTrainer, name)
    }
    assert private == {"_generate_and_score_completions", "_tool_call_loop"} <= set(TRL_INTERNALS)


def test_the_check_names_what_changed():
    class Renamed(GRPOTrainer):  # as if TRL had changed the loop's parameters and dropped an attribute
        def _tool_call_loop(self, prompts, prompt_ids, completion_ids, completions, logprobs):  # type: ignore[override]
            return None

    problems = trl_internals_problems(Renamed)
    assert any(p.startswith("GRPOTrainer._tool_call_loop(") for p in problems), problems
    assert "GRPOTrainer no longer assigns self._sync_tool_dicts" in problems
    assert "GRPOTrainer._tool_call_loop no longer calls tools through self._sync_tool_dicts" in problems
