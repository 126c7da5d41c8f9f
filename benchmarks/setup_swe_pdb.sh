#!/usr/bin/env bash
# Make a separate venv with SWE-PDB's own agent framework (its modified debug-gym,
# the `swe-pdb-agent` folder of the SWE-PDB release) for benchmarks/record_swe_pdb.py
# and benchmarks/fidelity.py. Idempotent: a venv whose debug_gym imports is kept.
#
#     bash benchmarks/setup_swe_pdb.sh [SWE_PDB_AGENT_DIR]   # -> $SWE_PDB_VENV (default /work/venv-swepdb)
#
# The source is the argument, else $SWE_PDB_AGENT, else ../shared/reference/swe-pdb-agent
# beside the checkout, else the copy `gym-pdb download` keeps in the user cache.
# Its requirements pin a training stack (torch, deepspeed) the environment never
# imports, so it is installed with --no-deps, swebench and swesmith too (their own
# dependencies cannot all be built from PyPI), then only what its envs and tools
# import. Its envs/__init__.py imports an `editbench` module the release lacks: the
# venv gets a stand-in module whose class refuses to be made.
set -euo pipefail

HERE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${SWE_PDB_VENV:-/work/venv-swepdb}"
SRC="${1:-${SWE_PDB_AGENT:-}}"
if [ -z "$SRC" ]; then
    for candidate in "$HERE/../shared/reference/swe-pdb-agent" "${XDG_CACHE_HOME:-$HOME/.cache}/gym-pdb/swe-pdb-agent"; do
        if [ -f "$candidate/debug_gym/gym/envs/env.py" ]; then SRC="$candidate"; break; fi
    done
fi
if [ -z "$SRC" ] || [ ! -f "$SRC/debug_gym/gym/envs/env.py" ]; then
    echo "no swe-pdb-agent folder found: pass its path (it is in the SWE-PDB release, see gym-pdb download)" >&2
    exit 1
fi

check() {
    "$VENV/bin/python" -c 'import debug_gym.gym.envs, debug_gym.gym.tools, debug_gym.agents.debug_agent' 2>/dev/null
}

if [ -x "$VENV/bin/python" ] && check; then
    echo "SWE-PDB's debug_gym is ready in $VENV"
    exit 0
fi

find_python() {
    if [ -n "${SWE_PDB_PYTHON:-}" ]; then echo "$SWE_PDB_PYTHON"; return; fi
    local dir name
    for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11*; do
        if [ -x "$dir/bin/python3" ]; then echo "$dir/bin/python3"; return; fi
    done
    for name in python3.12 python3.11 python3; do
        if command -v "$name" >/dev/null 2>&1 && "$name" -c 'import sys, venv; assert sys.version_info >= (3, 10)' 2>/dev/null; then
            command -v "$name"; return
        fi
    done
    echo "no Python >= 3.10 found: set SWE_PDB_PYTHON" >&2
    exit 1
}

PY="$(find_python)"
echo "making $VENV with $PY ($("$PY" --version 2>&1)) from $SRC"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# A copy: pip builds from a writable tree, and the source may be read-only.
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
cp -r "$SRC/." "$BUILD/"
"${PIP[@]}" --no-deps "$BUILD" "swebench==4.0.3" "swesmith==0.0.4"
# What SWE-PDB's envs, tools and terminals import (the pins of its requirements.txt where it pins them).
"${PIP[@]}" \
    "datasets==2.19.0" "docker==7.1.0" "pyyaml==6.0.2" "pytest==8.3.5" "pytest-timeout==2.4.0" "rich==14.0.0" \
    "jinja2==3.1.6" "pandas==2.3.3" numpy requests tenacity termcolor gitignore_parser kubernetes \
    `# what swebench and swesmith import when debug_gym.gym is imported` \
    unidiff ghapi python-dotenv tqdm GitPython beautifulsoup4 tree-sitter tree-sitter-go astor modal litellm \
    `# what its agents' LLM clients import (record_swe_pdb.py builds their system prompts); no torch` \
    "transformers==4.57.3" openai tiktoken
SITE="$("$VENV/bin/python" -c 'import debug_gym, os; print(os.path.dirname(debug_gym.__file__))')"
if [ ! -f "$SITE/gym/envs/editbench.py" ]; then
    cat >"$SITE/gym/envs/editbench.py" <<'PY'
"""Stand-in for a module SWE-PDB's release does not ship (its envs/__init__.py imports it)."""
from debug_gym.gym.envs.env import RepoEnv


class EditBenchEnv(RepoEnv):
    def __init__(self, *args, **kwargs):
        raise RuntimeError("EditBenchEnv is not part of the SWE-PDB release")
PY
fi
check || { echo "SWE-PDB's debug_gym does not import in $VENV" >&2; "$VENV/bin/python" -c 'import debug_gym.gym.envs'; exit 1; }
echo "SWE-PDB's debug_gym is ready in $VENV"
