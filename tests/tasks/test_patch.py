"""Unified diffs: what a patch touches, applying it exactly (or refusing), making one."""

from __future__ import annotations

import pytest

from gym_pdb.tasks.patch import PatchError, apply, make, patched_paths

BEFORE = {"pkg/a.py": "a\nb\nc\n", "pkg/b.py": "1\n2", "old.py": "k\n"}
AFTER = {"pkg/a.py": "a\nB\nc\nd\n", "pkg/b.py": "1\n3", "new.py": "new\n"}


def test_a_made_patch_applies_back_to_the_same_files():
    patch = make(BEFORE, AFTER)
    assert patched_paths(patch) == ["new.py", "old.py", "pkg/a.py", "pkg/b.py"]
    assert apply(patch, BEFORE) == {"new.py": "new\n", "old.py": None, "pkg/a.py": "a\nB\nc\nd\n", "pkg/b.py": "1\n3"}


def test_a_git_style_patch_without_context_applies():
    patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -2 +2 @@\n-    return 1\n+    return 2\n"
    assert apply(patch, {"x.py": "def f():\n    return 1\n"}) == {"x.py": "def f():\n    return 2\n"}


def test_a_patch_that_does_not_match_is_refused():
    with pytest.raises(PatchError, match="does not match"):
        apply(make(BEFORE, AFTER), {**BEFORE, "pkg/a.py": "a\nX\nc\n"})
    with pytest.raises(PatchError, match="not in the tree"):
        apply(make(BEFORE, AFTER), {"pkg/b.py": "1\n2"})


def test_no_patch_touches_nothing():
    assert patched_paths("") == [] and apply("", BEFORE) == {}
