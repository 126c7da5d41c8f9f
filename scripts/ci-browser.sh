#!/usr/bin/env bash
# Make a headless browser ready for the viewer's tests (Debian, as root;
# scripts/test.sh calls this): install chromium and chromium-driver from
# Debian when either is missing. The tests start the browser themselves
# (headless, no sandbox as root) through the driver.
set -euo pipefail
log() { printf '[ci-browser %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
log "$(chromium --version 2>/dev/null || echo 'chromium: no version')"
