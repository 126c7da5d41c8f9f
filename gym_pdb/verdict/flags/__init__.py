"""Static flags: how a final program can earn the tests' reward without fixing the bug.

A sandbox stops what a program does to the machine; it cannot stop what the
program does through ordinary Python semantics inside the test process: an
object that equals anything, answers read out of the tests, a blanket
``except`` that turns a crash into a plausible value, a process that leaves
before pytest reports, a patched pytest, builtin or module the tests use.
Each leaves a mark in the program's syntax, so one AST pass over the final
files lists them, for the verdict to report beside the reward.

A flag is one line, ``"<kind>: [<subject> in ]<path>:<line> <what>"``, whose
kind is one of :data:`KINDS`. The rules are tuned for near-zero false positives on
the suites' buggy programs and gold fixes
(``benchmarks/flags_false_positives.py``): a flag says the program does the
thing, not that it might.

One module per job: :mod:`.facts` reads the test files, :mod:`.program` holds
one parsed program file, and each check is a module of its own, run in the
order of :data:`CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from .always_equal import RIGGED, always_equal
from .exit_early import EXITS, exits
from .facts import Facts
from .kinds import ALWAYS_EQUAL, EXIT_EARLY, KINDS, SPECIAL_CASED, SWALLOWED, TAMPERING
from .program import Program
from .reads_tests import FILE_CHANGERS, FRAME_ACCESS, FRAME_ATTRS, OPENERS, PATH_WRITERS, reads_tests
from .special_cased import special_cases
from .swallowed import BLANKET, swallowed
from .syntax import BUILTIN_NAMES, parse
from .tampering import CONFIG_FILES, INTERNALS, tampering

__all__ = [
    "ALWAYS_EQUAL", "BLANKET", "BUILTIN_NAMES", "CHECKS", "CONFIG_FILES", "EXITS", "EXIT_EARLY", "FILE_CHANGERS",
    "FRAME_ACCESS", "FRAME_ATTRS", "INTERNALS", "KINDS", "OPENERS", "PATH_WRITERS", "RIGGED", "SPECIAL_CASED",
    "SWALLOWED", "TAMPERING", "static_flags",
]  # fmt: skip

CHECKS: tuple[Callable[[Program], Iterator[str]], ...] = (
    always_equal, reads_tests, special_cases, swallowed, exits, tampering,
)  # fmt: skip


def static_flags(program: Mapping[str, str], tests: Mapping[str, str]) -> list[str]:
    """Flags for the editable program files (path -> text), given the task's test files (path -> text).

    Files that do not parse get no flags (the tests fail on them anyway); no
    input makes it raise.
    """
    facts = Facts.read(tests)
    flags: list[str] = []
    for path in sorted(p for p in program if isinstance(p, str)):
        tree = parse(program[path]) if path.endswith(".py") and path not in tests else None
        if tree is not None:
            try:
                parsed = Program(path, tree, facts)
                flags += dict.fromkeys(flag for check in CHECKS for flag in check(parsed))
            except RecursionError:  # a pathologically deep tree: a flag missed, never a crash
                continue
    return flags
