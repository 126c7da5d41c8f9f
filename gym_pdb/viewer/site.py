"""The viewer's files, for the server and the static export alike.

The pages are ``assets/`` (shipped in the package: HTML, CSS, plain
JavaScript, no build step and no network). Data reaches them as scripts:
``data/index.js`` sets ``window.GYM_PDB_INDEX``, and ``data/ep/<key>.js``
calls ``GymPdb.episodeLoaded(...)`` when a page adds it. A browser runs a
script from ``file://`` where it refuses to fetch JSON, so the export opens
from a folder with no server.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from gym_pdb.viewer.data import Runs, episode_data, index_data

ASSETS = ("index.html", "viewer.css", "util.js", "observe.js", "episode.js", "overview.js", "compare.js", "app.js")


def asset(name: str) -> bytes | None:
    """A file of the viewer's assets, or None if there is no such asset."""
    if name not in ASSETS:
        return None
    # One name per joinpath: Traversable.joinpath takes only one before Python 3.11.
    return resources.files("gym_pdb.viewer").joinpath("assets").joinpath(name).read_bytes()


def _json(data: Any) -> str:
    # ASCII only: the script is read in the page's charset, whatever the file system says.
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def index_script(runs: Runs, plots: list[str]) -> str:
    return f"window.GYM_PDB_INDEX = {_json(index_data(runs, plots))};\n"


def episode_script(runs: Runs, key: str) -> str | None:
    data = episode_data(runs, key)
    if data is None:
        return None
    return f"GymPdb.episodeLoaded({_json(data)});\n"


def write_plots(runs: Runs, out_dir: str | os.PathLike) -> list[Path]:
    """``gym-pdb summarize --plots``'s PNGs of the runs; none without matplotlib (the pages then show none)."""
    try:
        from gym_pdb.evaluation.plots import plot_all

        return plot_all(runs.groups(), out_dir)
    except (RuntimeError, ImportError):
        return []


def export(runs: Runs, out_dir: str | os.PathLike) -> Path:
    """Write the whole site into ``out_dir``; return its ``index.html``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        target = out / name if name == "index.html" else out / "assets" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(asset(name) or b"")
    shutil.rmtree(out / "data", ignore_errors=True)
    (out / "data" / "ep").mkdir(parents=True)
    plots = [f"plots/{p.name}" for p in write_plots(runs, out / "plots")]
    (out / "data" / "index.js").write_text(index_script(runs, plots), encoding="ascii")
    for run in runs.runs:
        for key in run.keys:
            path = out / "data" / "ep" / f"{key}.js"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(episode_script(runs, key) or "", encoding="ascii")
    return out / "index.html"
