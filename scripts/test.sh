#!/usr/bin/env bash
# Run the whole test suite with the venv given as $1 (make test calls this).
# As root, first make Docker ready (install, start dockerd, build the sandbox
# image), install the headless browser of the viewer's tests and the Python
# 3.12 of the trace tool's sys.monitoring tests; in CI (CI set) the Docker,
# browser and 3.12 tests must run, never skip.
set -euo pipefail
venv="${1:?usage: scripts/test.sh VENV}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [ "$(id -u)" -eq 0 ]; then
    VIRTUAL_ENV="$venv" bash scripts/ci-docker.sh
    bash scripts/ci-browser.sh
    bash scripts/ci-python312.sh
elif [ -n "${CI:-}" ]; then
    echo "CI needs root to install and start dockerd" >&2
    exit 1
fi
# The suites' data: GYM_PDB_DATA (make sets it to ../shared/data/swe-pdb when
# that folder is there), else the user cache, filled by `gym-pdb download`.
if [ -z "${GYM_PDB_DATA:-}" ] && ! "$venv/bin/python" -c 'import sys
from gym_pdb.tasks.data_dir import resolve_suite_dir
try:
    resolve_suite_dir("debugbench")
except FileNotFoundError:
    sys.exit(1)' 2>/dev/null; then
    echo "The tests need the SWE-PDB suites' data; fetching it with gym-pdb download..." >&2
    if ! "$venv/bin/gym-pdb" download; then
        echo "No suite data: set GYM_PDB_DATA to a folder holding the suites (debugbench/, mini_nightmare/, ...;" \
             "its upstream/ originals beside it), or run 'gym-pdb download' where the network reaches GitHub." >&2
        exit 1
    fi
fi
# SWE-PDB's agent framework, whose texts the swe-pdb profile's tests read: GYM_PDB_SWE_PDB_AGENT (make
# points it at ../shared/reference/swe-pdb-agent when that folder is there), else the user cache.
if ! "$venv/bin/python" -c 'from gym_pdb.profiles.swe_pdb.release import find_release; find_release()' 2>/dev/null; then
    echo "The swe-pdb profile's tests need SWE-PDB's release; fetching it with gym-pdb download swe-pdb-agent..." >&2
    if ! "$venv/bin/gym-pdb" download swe-pdb-agent; then
        echo "No SWE-PDB release: set GYM_PDB_SWE_PDB_AGENT to a swe-pdb-agent folder (its debug_gym/ and scripts/)," \
             "or run 'gym-pdb download swe-pdb-agent' where the network reaches GitHub." >&2
        exit 1
    fi
fi
# Lint and type-check first (configured in pyproject.toml); any finding fails.
"$venv/bin/python" -m ruff check
bash scripts/typecheck.sh "$venv/bin/python"
# pytest exits 5 when it collected no test: that fails here as any other error.
exec "$venv/bin/python" -m pytest tests -p no:cacheprovider -q -ra "${@:2}"
