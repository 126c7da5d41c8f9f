"""Small repository tasks built from PyPI source distributions: real packages, their own test suites, one injected bug.

What the tests, the audit and ``benchmarks/bench_repo.py`` run repository
tasks on without a registry: each example is a pure-Python package whose
sdist carries its tests, laid at ``/testbed`` of an image built on the
sandbox image (``FROM gym-pdb-sandbox:latest``; Python 3.11, pytest 7). The
sdist is fetched on the host (``pip download``), the bug is one replaced line,
and the gold patch is its reverse. Images are tagged by a hash of their
recipe and rebuilt only when the sandbox image under them changes
(``gym-pdb build-image --dockerfile`` builds any folder the same way).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gym_pdb.tasks.repository import RepoSpec, make_repo_task
from gym_pdb.tasks.source import TaskDict
from gym_pdb.tasks.task import Task

BASE_IMAGE = "gym-pdb-sandbox:latest"
REPO_PATH = "/testbed"
BASE_LABEL = "gym-pdb.base"  # the id of the image it was built on: a rebuilt sandbox image means a rebuild
DOCKERFILE = f"FROM {{base}}\nLABEL {BASE_LABEL}={{base_id}}\nCOPY repo {REPO_PATH}\nWORKDIR {REPO_PATH}\n"


@dataclass(frozen=True)
class Example:
    """One package with one bug: ``old``, line ``line`` of ``path`` (and unique there), becomes ``new``."""

    name: str
    package: str
    version: str
    path: str
    line: int
    old: str
    new: str
    problem: str
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...]

    @property
    def tag(self) -> str:
        recipe = json.dumps([self.package, self.version, self.path, self.old, self.new, DOCKERFILE], sort_keys=True)
        return f"gym-pdb-repo-{self.name}:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"

    @property
    def gold_patch(self) -> str:
        """The fix: the injected change reversed, as a unified diff without context."""
        return f"--- a/{self.path}\n+++ b/{self.path}\n@@ -{self.line} +{self.line} @@\n-{self.new}+{self.old}"


EXAMPLES = (
    Example(
        name="toolz",
        package="toolz",
        version="0.12.1",
        path="toolz/itertoolz.py",
        line=549,
        old="        d[item] += 1\n",
        new="        d[item] = 1\n",
        problem="`toolz.frequencies(['cat', 'cat', 'ox'])` returns `{'cat': 1, 'ox': 1}`: every count is 1.",
        fail_to_pass=("toolz/tests/test_itertoolz.py::test_frequencies", "toolz/tests/test_recipes.py::test_countby"),
        pass_to_pass=(
            "toolz/tests/test_itertoolz.py::test_groupby",
            "toolz/tests/test_itertoolz.py::test_take",
            "toolz/tests/test_itertoolz.py::test_interpose",
            "toolz/tests/test_itertoolz.py::test_partition_all",
            "toolz/tests/test_itertoolz.py::test_unique",
        ),
    ),
    Example(
        name="inflection",
        package="inflection",
        version="0.5.1",
        path="inflection/__init__.py",
        line=180,
        old="    return word.replace('_', '-')\n",
        new="    return word.replace('-', '_')\n",
        problem="`inflection.dasherize('puni_puni')` returns 'puni_puni' instead of 'puni-puni'.",
        fail_to_pass=(
            "test_inflection.py::test_dasherize[street_address-street-address]",
            "test_inflection.py::test_dasherize[person_street_address-person-street-address]",
        ),
        pass_to_pass=(
            "test_inflection.py::test_dasherize[street-street]",
            "test_inflection.py::test_underscore[Product-product]",
            "test_inflection.py::test_pluralize_singular[search-searches]",
            "test_inflection.py::test_camelize_with_lower_downcases_the_first_letter",
        ),
    ),
)


def fetch_sdist(package: str, version: str, dest: Path) -> Path:
    """Download the source distribution of ``package==version`` into ``dest`` (host side, PyPI or its mirror)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", package]
    if importlib.util.find_spec("setuptools") is not None:  # its metadata step needs no build env from PyPI then
        cmd.append("--no-build-isolation")
    subprocess.run([*cmd, "-q", "-d", str(dest), f"{package}=={version}"], check=True, timeout=300)
    found = sorted(dest.glob(f"{package}-{version}.tar.gz"))
    if not found:
        raise FileNotFoundError(f"pip did not fetch {package}-{version}.tar.gz")
    return found[0]


def prepare_context(example: Example, folder: Path, base: str = BASE_IMAGE, base_id: str = "") -> tuple[str, str]:
    """Lay the build folder of ``example`` (Dockerfile and buggy ``repo/``); returns (buggy, gold) text of its file."""
    sdist = fetch_sdist(example.package, example.version, folder / "dl")
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if (m.isfile() or m.isdir()) and not m.name.startswith(("/", "..")) and "/../" not in m.name]
        tar.extractall(folder / "src", members=members)
    (folder / "src" / f"{example.package}-{example.version}").rename(folder / "repo")
    target = folder / "repo" / example.path
    gold = target.read_text()
    lines = gold.splitlines(keepends=True)
    if gold.count(example.old) != 1 or lines[example.line - 1] != example.old:
        raise ValueError(f"{example.name}: line {example.line} of {example.path} is not the unique line to change")
    buggy = gold.replace(example.old, example.new)
    target.write_text(buggy)
    (folder / "Dockerfile").write_text(DOCKERFILE.format(base=base, base_id=base_id or "unknown"))
    return buggy, gold


def build_example(example: Example, client: Any = None, base: str = BASE_IMAGE) -> str:
    """The image of ``example``, built unless one of the same recipe is there; returns its tag."""
    from gym_pdb.sandbox.docker.task_image import build_task_image
    from gym_pdb.sandbox.docker.transport import docker_sdk

    docker = docker_sdk()
    client = client or docker.from_env(timeout=600)
    base_id = client.images.get(base).id
    try:
        if (client.images.get(example.tag).labels or {}).get(BASE_LABEL) == base_id:
            return example.tag
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory(prefix="gym-pdb-repo-") as tmp:
        prepare_context(example, Path(tmp), base, base_id)
        build_task_image(Path(tmp), example.tag, client=client)
    return example.tag


def example_task(example: Example) -> Task:
    """The task of ``example`` (its image named by tag; :func:`build_example` makes it)."""
    spec = RepoSpec(
        image=example.tag,
        path=REPO_PATH,
        fail_to_pass=list(example.fail_to_pass),
        pass_to_pass=list(example.pass_to_pass),
        problem=example.problem,
        gold_patch=example.gold_patch,
    )
    task = make_repo_task(f"{example.name}-{example.version}", "repo-examples", spec, {"package": example.package})
    return task


def example_tasks(build: bool = True) -> TaskDict:
    """The examples as a suite (``PDB-RepoExamples-v0``), their images built first with ``build``."""
    if build:
        for example in EXAMPLES:
            build_example(example)
    return TaskDict([example_task(e) for e in EXAMPLES], "repo-examples")
