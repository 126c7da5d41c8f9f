#!/usr/bin/env bash
# Run the whole test suite with the venv given as $1 (make test calls this).
# As root, first make Docker ready (install, start dockerd, build the sandbox
# image); in CI (CI set) the Docker tests must run, never skip.
set -euo pipefail
venv="${1:?usage: scripts/test.sh VENV}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [ "$(id -u)" -eq 0 ]; then
    bash scripts/ci-docker.sh
elif [ -n "${CI:-}" ]; then
    echo "CI needs root to install and start dockerd" >&2
    exit 1
fi
# pytest exits 5 when it collected no test: that fails here as any other error.
exec "$venv/bin/python" -m pytest tests -p no:cacheprovider -q -ra "${@:2}"
