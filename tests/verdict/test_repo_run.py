"""The repository verdict's pure parts: what the tree should hold, and what a restore puts back.

The runs themselves (the check before an eval, the test patch, the hidden
tests, tampering) are exercised on real images in tests/test_env_repo.py.
"""

from __future__ import annotations

import hashlib

from gym_pdb.sandbox.docker.repository import outermost, plan_restore
from gym_pdb.verdict.repo_run import SHADOWED, wanted


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


PRISTINE = {"pkg": "dir", "pkg/a.py": sha("a\n"), "pkg/b.py": sha("b\n"), "link": "link", "data": "dir", "data/x.bin": sha("x")}


def test_the_tree_should_hold_the_image_s_files_and_the_host_s_edits():
    kinds, edited = wanted(PRISTINE, {"pkg/a.py": "a\n", "pkg/b.py": "B\n", "new/mod.py": "m\n"})
    assert edited == {"pkg/b.py": sha("B\n"), "new/mod.py": sha("m\n")}  # an unchanged file is no edit
    assert kinds["new"] == "dir" and kinds["new/mod.py"] == "file" and kinds["link"] == "link"
    assert kinds["data/x.bin"] == "file"  # a file the host does not mirror stays expected


def test_a_restore_removes_what_came_and_copies_back_what_changed_or_went():
    entries = {"pkg": "dir", "pkg/a.py": "file", "link": "file", "data": "dir", "stray": "dir", "stray/conftest.py": "file"}
    changed = {"pkg/a.py": sha("broken"), "link": sha("")}
    drop, copy = plan_restore(PRISTINE, entries, changed)
    assert drop == ["link", "pkg/a.py", "stray"]  # the folder, not what it holds
    assert copy == ["data/x.bin", "link", "pkg/a.py", "pkg/b.py"]
    same = {p: ("file" if k not in ("dir", "link") else k) for p, k in PRISTINE.items()}
    assert plan_restore(PRISTINE, same, {"pkg/a.py": sha("a\n")}) == ([], [])  # touched, not changed


def test_outermost_keeps_folders_over_what_they_hold():
    assert outermost(["a/b", "a", "ab", "c/d/e", "c/d"]) == ["a", "ab", "c/d"]


def test_pytest_and_the_standard_library_cannot_be_shadowed():
    assert {"pytest", "json", "os", "_pytest"} <= SHADOWED and "toolz" not in SHADOWED
