"""Scripts that run inside a sandbox (stdlib and pytest only, never gym_pdb itself).

Every backend lays these files into its ``support_dir`` before running anything.
"""

from __future__ import annotations

from importlib import resources

SUPPORT_SCRIPTS = ("pdb_driver.py", "eval_plugin.py", "zygote.py", "pytest.ini")


def support_files() -> dict[str, bytes]:
    """The support scripts by file name, as bytes."""
    here = resources.files(__name__)
    return {name: here.joinpath(name).read_bytes() for name in SUPPORT_SCRIPTS}
