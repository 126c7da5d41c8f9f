#!/usr/bin/env bash
# Make Docker ready for the test suite (Debian, as root; .ci/run calls this):
#   1. install docker.io, docker-compose, debootstrap and bubblewrap (the local
#      sandbox's namespaces) from Debian if missing;
#   2. start dockerd if it is not running, and wait for it (log: $DOCKERD_LOG);
#   3. build the sandbox image without a registry if it is missing or stale
#      (docker/build-image.sh --offline --if-missing).
# Set GYM_PDB_SKIP_IMAGE=1 to skip step 3.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/gym-pdb-dockerd.log}"
log() { printf '[ci-docker %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
START=$SECONDS

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v bwrap >/dev/null || missing+=(bubblewrap)  # the local sandbox's namespaces
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    for _ in $(seq 120); do
        docker info >/dev/null 2>&1 && break
        sleep 0.5
    done
    if ! docker info >/dev/null 2>&1; then
        tail -n 30 "$DOCKERD_LOG" >&2 || true
        log "dockerd did not come up"
        exit 1
    fi
fi
log "dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null) is up"

if [ "${GYM_PDB_SKIP_IMAGE:-0}" != 1 ]; then
    bash "$REPO/docker/build-image.sh" --offline --if-missing
fi
log "docker ready in $((SECONDS - START)) s"
