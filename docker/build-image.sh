#!/usr/bin/env bash
# Build the sandbox image (gym-pdb-sandbox:latest); `gym-pdb build-image` runs this.
#
#   docker/build-image.sh [--offline] [--if-missing] [--tier full|core] [--tag TAG]
#
#   (default)     docker build on python:3.11-slim, packages from PyPI (needs a registry)
#   --offline     no container registry: docker/build-base.sh makes gym-pdb-base:bookworm
#                 from Debian packages (debootstrap; root), then the image is built on it
#   --if-missing  do nothing when TAG exists and was built from the same recipe
#                 (Dockerfile, packages.txt, build-base.sh, tier, mode)
#   --tier        full (default: + torch CPU, opencv) or core
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OFFLINE=0
IF_MISSING=0
TIER="${GYM_PDB_TIER:-full}"
TAG="${GYM_PDB_IMAGE:-gym-pdb-sandbox:latest}"
BASE_TAG="${GYM_PDB_BASE_IMAGE:-gym-pdb-base:bookworm}"
while [ $# -gt 0 ]; do
    case "$1" in
        --offline) OFFLINE=1 ;;
        --if-missing) IF_MISSING=1 ;;
        --tier) TIER="$2"; shift ;;
        --tier=*) TIER="${1#--tier=}" ;;
        --tag) TAG="$2"; shift ;;
        --tag=*) TAG="${1#--tag=}" ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
log() { printf '[build-image %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

recipe() { # the hash of what makes an image
    { cat "$HERE/Dockerfile" "$HERE/packages.txt" "$HERE/build-base.sh"; echo "$TIER $OFFLINE $*"; } |
        sha256sum | cut -c1-16
}
label_of() { docker image inspect -f '{{ index .Config.Labels "gym-pdb.recipe" }}' "$1" 2>/dev/null || true; }

RECIPE="$(recipe)"
if [ "$IF_MISSING" = 1 ] && [ "$(label_of "$TAG")" = "$RECIPE" ]; then
    log "$TAG is up to date (recipe $RECIPE)"
    exit 0
fi

START=$SECONDS
BUILD_ARGS=(--build-arg "GYM_PDB_TIER=$TIER" --label "gym-pdb.recipe=$RECIPE")
if [ "$OFFLINE" = 1 ]; then
    BASE_RECIPE="$(recipe base)"
    if [ "$(label_of "$BASE_TAG")" != "$BASE_RECIPE" ]; then
        log "building the base image $BASE_TAG (debootstrap; a few minutes)"
        GYM_PDB_TIER="$TIER" GYM_PDB_BASE_IMAGE="$BASE_TAG" GYM_PDB_RECIPE="$BASE_RECIPE" bash "$HERE/build-base.sh"
    else
        log "base image $BASE_TAG is up to date"
    fi
    BUILD_ARGS+=(--build-arg "BASE_IMAGE=$BASE_TAG")
fi
log "docker build -t $TAG ($([ "$OFFLINE" = 1 ] && echo "on $BASE_TAG" || echo "on python:3.11-slim"), tier $TIER)"
docker build -q "${BUILD_ARGS[@]}" -t "$TAG" "$HERE" >/dev/null
log "built $TAG in $((SECONDS - START)) s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.2f GB", $1/1e9}'))"
