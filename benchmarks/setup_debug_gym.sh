#!/usr/bin/env bash
# Make a separate venv with debug-gym (microsoft/debug-gym, PyPI `debug-gym`)
# for benchmarks/compare_debug_gym.py. Idempotent: an existing venv that
# imports debug_gym.gym is left as it is.
#
#     bash benchmarks/setup_debug_gym.sh            # -> $DEBUG_GYM_VENV (default /opt/debug-gym-venv)
#
# debug-gym 1.3 needs Python >= 3.12: the interpreter is $DEBUG_GYM_PYTHON, else
# python3.12/python3.13 on PATH, else the newest 3.12+ under ~/.pyenv/versions.
# A plain `pip install debug-gym` fails (a transitive dependency is an sdist
# that downloads from outside PyPI at build time), so debug-gym, swebench and
# swesmith are installed with --no-deps and the rest of debug-gym's runtime
# requirements (its own pins) are installed normally. debug_gym.gym imports
# kubernetes, swebench and swesmith at import time; with --no-deps they import.
set -euo pipefail

VENV="${DEBUG_GYM_VENV:-/opt/debug-gym-venv}"
VERSION="${DEBUG_GYM_VERSION:-1.3.0}"

check() {
    "$VENV/bin/python" -c 'import debug_gym.gym.envs, debug_gym.gym.tools, debug_gym.version as v; print(v.__version__)' 2>/dev/null
}

# debug-gym's Docker terminal for Mini Nightmare wants an image with bash, git, python, pytest and
# pandas (its own recipe starts from python:3.12-slim on Docker Hub, out of reach here): build one from
# gym-pdb's sandbox image (the same Python, pytest and pandas as gym-pdb's Docker rows), plus git, run
# as root in /testbed as debug-gym expects. Skipped without dockerd or without that image.
build_image() {
    local image="${DEBUG_GYM_IMAGE:-debug-gym-bench:mini-nightmare}" base="${GYM_PDB_IMAGE:-gym-pdb-sandbox:latest}"
    if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
        echo "no dockerd: debug-gym's Docker rows will be skipped"
        return 0
    fi
    if docker image inspect "$image" >/dev/null 2>&1; then
        echo "image $image is ready"
        return 0
    fi
    if ! docker image inspect "$base" >/dev/null 2>&1; then
        echo "no $base (gym-pdb build-image): debug-gym's Docker rows will be skipped"
        return 0
    fi
    local dir
    dir="$(mktemp -d)"
    printf 'FROM %s\nUSER root\nRUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*\nWORKDIR /testbed\n' \
        "$base" >"$dir/Dockerfile"
    echo "building $image from $base (+ git)"
    docker build -q -t "$image" "$dir" >/dev/null
    rm -rf "$dir"
}

if [ -x "$VENV/bin/python" ] && installed="$(check)" && [ "$installed" = "$VERSION" ]; then
    echo "debug-gym $installed is ready in $VENV"
    build_image
    exit 0
fi

find_python() {
    if [ -n "${DEBUG_GYM_PYTHON:-}" ]; then
        echo "$DEBUG_GYM_PYTHON"
        return
    fi
    local dir name
    for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*; do
        if [ -x "$dir/bin/python3" ]; then
            echo "$dir/bin/python3"
            return
        fi
    done
    for name in python3.12 python3.13; do
        if command -v "$name" >/dev/null 2>&1 && "$name" -c 'import venv' 2>/dev/null; then
            command -v "$name"
            return
        fi
    done
    echo "no Python >= 3.12 found: set DEBUG_GYM_PYTHON (debug-gym $VERSION needs Python >= 3.12)" >&2
    exit 1
}

PY="$(find_python)"
echo "making $VENV with $PY ($("$PY" --version 2>&1))"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
# debug-gym itself and the two SWE packages whose own dependencies cannot be built from PyPI alone.
"${PIP[@]}" --no-deps "debug-gym==$VERSION" "swebench==4.0.3" "swesmith==0.0.4"
# debug-gym 1.3.0's runtime requirements (its pins), less swebench and swesmith.
"${PIP[@]}" \
    "datasets==3.6.0" "openai==1.99.9" "azure-identity==1.22.0" "tenacity==9.1.2" "pyyaml==6.0.2" \
    "pytest==8.3.5" "gitignore_parser==0.1.12" "termcolor==3.1.0" "transformers==4.51.3" tiktoken \
    "docker==7.1.0" "prompt_toolkit==3.0.51" "anthropic==0.51.0" "jinja2==3.1.6" "rich==14.0.0" \
    "kubernetes==33.1.0" \
    `# what swebench and swesmith import when debug_gym.gym is imported` \
    unidiff ghapi python-dotenv tqdm requests GitPython beautifulsoup4 modal litellm tree-sitter tree-sitter-go astor
installed="$(check)" || { echo "debug-gym does not import in $VENV" >&2; "$VENV/bin/python" -c 'import debug_gym.gym.envs'; exit 1; }
echo "debug-gym $installed is ready in $VENV"
build_image
