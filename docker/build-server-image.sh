#!/usr/bin/env bash
# Build the server image (gym-pdb-server:latest) on the sandbox image, with no container registry:
#
#   docker/build-server-image.sh [--if-missing] [--tag TAG]
#
# The host's pip installs gym-pdb (this checkout) and its `serve` extra into a
# staging folder for the image's Python (3.11, as the sandbox image has it);
# docker/server.Dockerfile copies that onto gym-pdb-sandbox:latest (built by
# docker/build-image.sh [--offline] first). --if-missing: nothing to do when
# TAG exists and was built from the same sources and base image.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
TAG="${GYM_PDB_SERVER_IMAGE:-gym-pdb-server:latest}"
BASE="${GYM_PDB_IMAGE:-gym-pdb-sandbox:latest}"
IF_MISSING=0
while [ $# -gt 0 ]; do
    case "$1" in
        --if-missing) IF_MISSING=1 ;;
        --tag) TAG="$2"; shift ;;
        --tag=*) TAG="${1#--tag=}" ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "build-server-image: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
log() { printf '[build-server-image %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

docker image inspect "$BASE" >/dev/null 2>&1 || { log "no $BASE: build it first (docker/build-image.sh --offline)"; exit 1; }
recipe() { # what makes the image: the package's sources, its metadata, the recipe, the base image
    { cd "$REPO" && git ls-files -z gym_pdb setup.cfg pyproject.toml | xargs -0 sha256sum
      sha256sum "$HERE/server.Dockerfile" "$0"; docker image inspect -f '{{.Id}}' "$BASE"; } | sha256sum | cut -c1-16
}
RECIPE="$(recipe)"
if [ "$IF_MISSING" = 1 ] && [ "$(docker image inspect -f '{{ index .Config.Labels "gym-pdb.recipe" }}' "$TAG" 2>/dev/null)" = "$RECIPE" ]; then
    log "$TAG is up to date (recipe $RECIPE)"
    exit 0
fi

START=$SECONDS
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    for py in "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}" python3; do
        [ -n "$py" ] && "$py" -m pip --version >/dev/null 2>&1 && { PY="$py"; break; }
    done
fi
[ -n "$PY" ] || { log "pip is needed on the host"; exit 1; }
HOST_VER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
IMAGE_VER="$(docker run --rm --entrypoint python3 "$BASE" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$HOST_VER" = "$IMAGE_VER" ] || { log "the host's Python is $HOST_VER, the image's $IMAGE_VER: set PYTHON to a $IMAGE_VER"; exit 1; }

STAGE="$HERE/.server-stage"
rm -rf "$STAGE"
log "staging gym-pdb[serve] for Python $IMAGE_VER with $PY"
(cd "$REPO" && "$PY" -m pip install -q --no-compile --no-warn-script-location --target "$STAGE" ".[serve]")
find "$STAGE" -name '__pycache__' -prune -exec rm -rf {} +
log "docker build -t $TAG on $BASE ($(du -sh "$STAGE" | cut -f1) staged)"
docker build -q --build-arg "BASE_IMAGE=$BASE" --label "gym-pdb.recipe=$RECIPE" -f "$HERE/server.Dockerfile" -t "$TAG" "$HERE" >/dev/null
rm -rf "$STAGE"
log "built $TAG in $((SECONDS - START)) s"
