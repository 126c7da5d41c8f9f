#!/usr/bin/env bash
# Make a Python 3.12 ready for the trace tool's sys.monitoring tests (as root; scripts/test.sh
# calls this): Pyodide's CPython 3.12 from the npm registry (the interpreter ships inside the
# package as WebAssembly, so nothing else is downloaded), run by node through
# scripts/pyodide-python.js, installed as $PYTHON312_DIR/bin/python3.12 (default
# /opt/gym-pdb/python3.12). npm and node come from Debian when missing. Kept between runs:
# a second call with the same version only checks it.
set -euo pipefail
log() { printf '[ci-python312 %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PYTHON312_DIR:-/opt/gym-pdb/python3.12}"
version=0.27.7  # Pyodide 0.27 is CPython 3.12.7
python="$dir/bin/python3.12"

if ! command -v npm >/dev/null; then
    log "installing npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends npm >/dev/null
fi
if ! grep -qs "\"version\": \"$version\"" "$dir/node_modules/pyodide/package.json"; then
    log "installing pyodide@$version into $dir"
    mkdir -p "$dir/bin"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "pyodide@$version" >/dev/null
fi
install -m 755 "$repo/scripts/pyodide-python.js" "$python"
log "$("$python" -c 'import sys; print("python", sys.version.split()[0], "sys.monitoring:", hasattr(sys, "monitoring"))')"
