"""What may differ between two runs of the same call and still count as the same observation.

The list, applied in this order:

1. the episode's working folder (SWE-PDB runs in a fresh temporary folder, gym-pdb
   in its own sandbox workspace) becomes ``<workdir>``, with or without a
   trailing ``/``;
2. pytest's timings (``in 0.12s``, ``0.01s call``) become ``?s``;
3. memory addresses (``0x7f3a...``) become ``0x?``;
4. line ends: ``\\r\\n`` becomes ``\\n``;
5. the Python installation's packages folder (``/.../lib/python3.X/site-packages/``, where pdb
   shows pytest's own files) becomes ``<site-packages>/``.
"""

from __future__ import annotations

import re

#: SWE-PDB's working folders (its workspace is a temporary folder named ``DebugGym-...``), for
#: recordings that do not say which one they ran in (its SFT trajectories).
RECORDED_WORKDIR = re.compile(r"/tmp/DebugGym-[A-Za-z0-9_]+")
SITE_PACKAGES = re.compile(r"/[^\s()]*/lib/python3\.\d+/site-packages/")
TIMING = re.compile(r"\b\d+(?:\.\d+)?s\b")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")


def normalize(text: str, workdir: str) -> str:
    """``text`` with the volatile parts masked; ``workdir``: the folder the episode ran in ('' for none)."""
    if workdir:
        text = text.replace(workdir.rstrip("/") + "/", "<workdir>/").replace(workdir.rstrip("/"), "<workdir>")
    text = TIMING.sub("?s", text)
    text = ADDRESS.sub("0x?", text)
    text = text.replace("\r\n", "\n")
    return SITE_PACKAGES.sub("<site-packages>/", text)


def normalize_recorded(text: str) -> str:
    """A SWE-PDB observation whose working folder is not known: any ``/tmp/DebugGym-...`` is it."""
    return normalize(RECORDED_WORKDIR.sub("<workdir>", text), "")
