"""The kinds of flag: the first word of every flag line, ``"<kind>: [<subject> in ]<path>:<line> <what>"``."""

from __future__ import annotations

ALWAYS_EQUAL = "always-equal"
SPECIAL_CASED = "special-cased-expected"
SWALLOWED = "swallowed-exceptions"
EXIT_EARLY = "exit-early"
TAMPERING = "test-tampering"
KINDS = (ALWAYS_EQUAL, SPECIAL_CASED, SWALLOWED, EXIT_EARLY, TAMPERING)
