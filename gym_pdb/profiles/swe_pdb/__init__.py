"""SWE-PDB's environment as the agent saw it: its tool schemas, observations, prompts and semantics."""
