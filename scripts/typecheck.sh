#!/usr/bin/env bash
# Type-check everything (scripts/test.sh calls this): the packages, then the
# sandbox's support scripts from their own folder, where they import each
# other as top-level modules (records, guard, eval_plugin...), as they run.
set -euo pipefail
python="${1:?usage: scripts/typecheck.sh PYTHON}"
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
"$python" -m mypy
cd gym_pdb/sandbox/support
scripts=()
for f in *.py; do
    [ "$f" = __init__.py ] || scripts+=("$f")
done
"$python" -m mypy --config-file "$repo/pyproject.toml" --explicit-package-bases "${scripts[@]}"
