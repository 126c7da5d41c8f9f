"""Verdicts on an agent's final program."""
