"""Unified diffs (``git diff`` output, SWE-bench's ``patch`` and ``test_patch``): read, apply, make.

Enough for patches made against the tree they apply to (the datasets' gold
and test patches): hunks must match exactly, with no fuzz; a mismatch is an
error, never a silent partial apply.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    """The patch does not apply to the files given."""


def _path(header: str) -> str | None:
    name = header.split("\t", 1)[0].strip()
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse(patch: str) -> list[tuple[str | None, str | None, list[tuple[int, list[str]]]]]:
    """Each file of ``patch``: (old path, new path, hunks); a hunk is (old start, its lines with their prefix)."""
    files: list[tuple[str | None, str | None, list[tuple[int, list[str]]]]] = []
    lines = patch.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _path(lines[i][4:]), _path(lines[i + 1][4:])
            hunks: list[tuple[int, list[str]]] = []
            files.append((old, new, hunks))
            i += 2
            while i < len(lines) and (m := HUNK.match(lines[i])):
                old_len = int(m.group(2) if m.group(2) is not None else 1)
                new_len = int(m.group(4) if m.group(4) is not None else 1)
                body: list[str] = []
                i += 1
                while (old_len > 0 or new_len > 0) and i < len(lines):
                    line = lines[i]
                    if line.startswith("\\"):  # "\ No newline at end of file": the line before has none
                        if body:
                            body[-1] = body[-1].rstrip("\n")
                        i += 1
                        continue
                    tag = line[:1] or " "
                    old_len -= tag in " -"
                    new_len -= tag in " +"
                    body.append(line)
                    i += 1
                while i < len(lines) and lines[i].startswith("\\"):
                    if body:
                        body[-1] = body[-1].rstrip("\n")
                    i += 1
                hunks.append((int(m.group(1)), body))
            continue
        i += 1
    return files


def patched_paths(patch: str) -> list[str]:
    """The paths a patch changes, creates or removes."""
    return [p for old, new, _ in parse(patch) for p in dict.fromkeys([old, new]) if p] if patch else []


def apply(patch: str, files: Mapping[str, str]) -> dict[str, str | None]:
    """The new text of each file ``patch`` touches (None: removed), from ``files``.

    Raises:
        PatchError: a hunk does not match, or a file it changes is missing.
    """
    out: dict[str, str | None] = {}
    for old, new, hunks in parse(patch):
        if old is None:
            source: list[str] = []
        elif old in files:
            source = files[old].splitlines(keepends=True)
        else:
            raise PatchError(f"the patch changes {old}, which is not in the tree")
        result: list[str] = []
        pos = 0
        for start, body in hunks:
            at = max(start - 1, 0) if body and any(b[:1] in " -" for b in body) else start
            want = [b[1:] for b in body if b[:1] in " -"]
            if source[at : at + len(want)] != want:
                raise PatchError(f"a hunk of {old or new} at line {start} does not match")
            result += source[pos:at]
            result += [b[1:] for b in body if b[:1] in " +"]
            pos = at + len(want)
        result += source[pos:]
        if new is None:
            if old is not None:
                out[old] = None
        else:
            if old is not None and old != new:
                out[old] = None
            out[new] = "".join(result)
    return out


def make(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """The unified diff (``a/`` and ``b/`` prefixes) from ``before`` to ``after``, over the paths of either."""
    chunks = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        diff = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            "a/" + path if old is not None else "/dev/null",
            "b/" + path if new is not None else "/dev/null",
        )
        chunks.append("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff))
    return "".join(chunks)
