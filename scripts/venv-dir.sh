#!/usr/bin/env bash
# Print where the project's virtual environment lives: .venv in the checkout,
# unless we run as root and the checkout cannot be reached by other users
# (a clone under /root, say). The local sandbox runs task code as an
# unprivileged uid that must reach the interpreter and its packages, so the
# venv then goes to /opt/gym-pdb, one per checkout.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reachable() {
    local d="$1"
    while [ "$d" != "/" ]; do
        [ "$(( 0$(stat -c '%a' "$d") & 1 ))" -eq 1 ] || return 1
        d="$(dirname "$d")"
    done
}
if [ "$(id -u)" -ne 0 ] || reachable "$repo"; then
    echo "$repo/.venv"
else
    echo "/opt/gym-pdb/venv-$(printf '%s' "$repo" | sha1sum | cut -c1-12)"
fi
