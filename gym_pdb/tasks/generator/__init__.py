"""The procedural bug generator behind PDB-Synthetic-v0.

``operators``: ast mutation operators by family; ``sources``: correct programs
with tests; ``synthetic``: :class:`SyntheticTasks`, the seeded, verified,
unbounded task source.
"""

from gym_pdb.tasks.generator.operators import FAMILIES, Mutation, apply_mutations, candidate_mutations
from gym_pdb.tasks.generator.sources import SourceProgram, load_sources, split_of
from gym_pdb.tasks.generator.synthetic import GenerationError, GeneratorConfig, SyntheticTasks

__all__ = [
    "FAMILIES", "GenerationError", "GeneratorConfig", "Mutation", "SourceProgram", "SyntheticTasks",
    "apply_mutations", "candidate_mutations", "load_sources", "split_of",
]  # fmt: skip
