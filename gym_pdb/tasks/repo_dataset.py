"""Repository datasets: SWE-bench, R2E-Gym or gym-pdb rows (JSON, JSONL or parquet) as a suite: ``PDB-Repo-v0``.

A row becomes a repository task (:mod:`gym_pdb.tasks.repository`). Fields,
in each dialect (a row may mix them; the first found wins):

====================  ==========================================  ==================================
what                  SWE-bench                                   R2E-Gym / gym-pdb
====================  ==========================================  ==================================
id                    ``instance_id``                             ``id``, ``docker_image``
image                 ``image`` or ``swebench/sweb.eval.x86_64.`` ``docker_image``, ``image``
                      ``<instance_id, __ as _1776_>:latest``
repository's folder   ``/testbed``                                ``repo_path``, ``path`` (``/testbed``)
issue                 ``problem_statement``                       ``problem_statement``, ``problem``
tests to fix          ``FAIL_TO_PASS`` (a list, or its JSON)      ``fail_to_pass``
tests to keep         ``PASS_TO_PASS``                            ``pass_to_pass``; R2E-Gym: the
                                                                  ``PASSED`` keys of ``expected_output_json``
eval-only tests       ``test_patch``                              ``hidden_tests`` (R2E-Gym: ``/r2e_tests``)
gold fix              ``patch``                                   ``gold_patch``
interpreter           ``python`` (``python3``)                    ``python``
image's recipe                                                    ``dockerfile`` (a folder, built
                                                                  where the image is missing)
====================  ==========================================  ==================================
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gym_pdb.tasks.repository import RepoSpec, make_repo_task
from gym_pdb.tasks.source import TaskDict, TaskSource
from gym_pdb.tasks.task import Task

SUFFIXES = (".json", ".jsonl", ".parquet")


def _first(row: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return default


def _ids(value: Any) -> list[str]:
    """A list of node ids from a list or its JSON text."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value]


def swebench_image(instance_id: str) -> str:
    """The name SWE-bench's harness gives an instance's evaluation image."""
    return f"swebench/sweb.eval.x86_64.{instance_id.replace('__', '_1776_').lower()}:latest"


def row_task(row: Mapping[str, Any], suite: str) -> Task:
    """The repository task of one dataset row (see the module's table)."""
    task_id = str(_first(row, "instance_id", "id", "docker_image", default=""))
    if not task_id:
        raise ValueError("a repository row needs an instance_id, id or docker_image")
    image = _first(row, "image", "docker_image", "image_name")
    if image is None and "instance_id" in row:
        image = swebench_image(str(row["instance_id"]))
    if image is None:
        raise ValueError(f"{task_id}: no image (image, docker_image or a SWE-bench instance_id)")
    fail = _ids(_first(row, "FAIL_TO_PASS", "fail_to_pass"))
    keep = _ids(_first(row, "PASS_TO_PASS", "pass_to_pass"))
    hidden = str(_first(row, "hidden_tests", default=""))
    if not fail and not keep and row.get("expected_output_json"):  # R2E-Gym: what the gold passes
        outcomes = row["expected_output_json"]
        outcomes = json.loads(outcomes) if isinstance(outcomes, str) else outcomes
        keep = [str(k).split(" - ")[0] for k, v in outcomes.items() if str(v).upper() == "PASSED"]
        hidden = hidden or "/r2e_tests"
    spec = RepoSpec(
        image=str(image),
        path=str(_first(row, "repo_path", "path", default="/testbed")),
        fail_to_pass=fail,
        pass_to_pass=keep,
        test_patch=str(_first(row, "test_patch", default="")),
        hidden_tests=hidden,
        tests_dest=str(_first(row, "tests_dest", default="")),
        gold_patch=str(_first(row, "patch", "gold_patch", default="")),
        python=str(_first(row, "python", default="python3")),
        problem=str(_first(row, "problem_statement", "problem", default="")),
        dockerfile=str(_first(row, "dockerfile", default="")),
    )
    metadata = {k: row[k] for k in ("repo", "repo_name", "base_commit", "commit_hash", "version") if k in row}
    return make_repo_task(task_id, suite, spec, metadata)


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a ``.json`` (a list, or an object with ``instances``), ``.jsonl`` or ``.parquet`` file."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return [dict(r) for r in pq.read_table(path).to_pylist()]
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return list(data["instances"] if isinstance(data, dict) else data)


def dataset_files(data_dir: str | os.PathLike[str]) -> list[Path]:
    """``data_dir`` if it is a dataset file, else the dataset files in that folder, sorted."""
    path = Path(data_dir).expanduser()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no repository dataset at {path}")
    return sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)


def tasks_from_rows(rows: Iterable[Mapping[str, Any]], suite: str) -> TaskDict:
    return TaskDict([row_task(row, suite) for row in rows], suite)


def load_repo_dataset(
    data_dir: str | os.PathLike[str] | None, *, include_broken: bool = False, download: bool = False
) -> TaskSource:
    """``PDB-Repo-v0``: the repository tasks of ``data_dir`` (a dataset file, or a folder of them)."""
    if not data_dir:
        raise ValueError("PDB-Repo-v0 needs data_dir=<a SWE-bench or R2E-Gym .json/.jsonl/.parquet file or folder>")
    files = dataset_files(data_dir)
    suite = Path(data_dir).stem or "repo"
    return tasks_from_rows([row for f in files for row in read_rows(f)], suite)


def write_rows(tasks: Iterable[Task], path: str | os.PathLike[str]) -> None:
    """Write repository tasks as a gym-pdb JSONL dataset (the fields of :class:`RepoSpec`, with ``id``)."""
    lines = []
    for task in tasks:
        if task.repo:
            lines.append(json.dumps({"id": task.id, **RepoSpec.from_dict(task.repo).to_dict()}))
    Path(path).write_text("\n".join(lines) + "\n")
