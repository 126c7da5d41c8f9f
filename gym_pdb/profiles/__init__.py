"""Profiles: what the agent sees (tool schemas, observations, prompts), gym-pdb's own or SWE-PDB's."""
