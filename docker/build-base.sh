#!/usr/bin/env bash
# Build the sandbox's base image without any container registry:
#   debootstrap --variant=minbase bookworm + Debian's python3 and the packages
#   of docker/packages.txt, then `docker import` -> gym-pdb-base:bookworm.
# Then build the sandbox image on it with:
#   docker build --build-arg BASE_IMAGE=gym-pdb-base:bookworm -t gym-pdb-sandbox:latest docker/
# (`gym-pdb build-image --offline` does both.)
#
# Environment:
#   GYM_PDB_BASE_IMAGE  tag to create (default gym-pdb-base:bookworm)
#   GYM_PDB_TIER        full (default: + torch CPU and opencv) or core (~1 GB smaller)
#   DEBIAN_MIRROR       Debian mirror (default: the one apt uses on this machine)
#   DEBIAN_SUITE        default bookworm
# Needs root, debootstrap and a running dockerd.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TAG="${GYM_PDB_BASE_IMAGE:-gym-pdb-base:bookworm}"
TIER="${GYM_PDB_TIER:-full}"
SUITE="${DEBIAN_SUITE:-bookworm}"
PACKAGES="$HERE/packages.txt"

log() { printf '[build-base %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v docker >/dev/null || die "the docker CLI is missing: apt-get install docker.io"
docker info >/dev/null 2>&1 || die "dockerd is not reachable"
case "$TIER" in core|full) ;; *) die "GYM_PDB_TIER must be core or full, not $TIER" ;; esac

# The Debian mirror apt uses here: deb822 .sources files, then one-line lists.
apt_uri() { # $1: suite -> first URI serving it
    local suite="$1" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '
            /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri=""; ok=0; next }
            tolower($1) == "uris:" { uri=$2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok=1 }
            END { if (uri != "" && ok) print uri }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; if ($(i+1) == s) print $i }'
    return 0
}
MIRROR="${DEBIAN_MIRROR:-$(apt_uri "$SUITE" | head -n1 || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY="$(apt_uri "$SUITE-security" | head -n1 || true)"

# Packages of the tier: Debian ones, and pip-only ones ("-" in the debian column).
DEB_CORE="$(awk '!/^[[:space:]]*#/ && NF >= 3 && $1 == "core" && $2 != "-" { print $2 }' "$PACKAGES" | xargs)"
DEB_FULL="$(awk '!/^[[:space:]]*#/ && NF >= 3 && $1 == "full" && $2 != "-" { print $2 }' "$PACKAGES" | xargs)"
PIP_ONLY="$(awk -v tier="$TIER" '!/^[[:space:]]*#/ && NF >= 3 && $2 == "-" && ($1 == "core" || tier == "full") { print $3 }' "$PACKAGES" | xargs)"

ROOT="$(mktemp -d "${TMPDIR:-/var/tmp}/gym-pdb-rootfs.XXXXXX")"
chmod 755 "$ROOT"  # apt's _apt user downloads into it
cleanup() {
    for m in proc dev/pts dev sys; do mountpoint -q "$ROOT/$m" 2>/dev/null && umount -l "$ROOT/$m" || true; done
    rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

START=$SECONDS
log "debootstrap --variant=minbase $SUITE from $MIRROR into $ROOT"
debootstrap --variant=minbase --include=python3,tini "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 \
    || { tail -n 30 "$ROOT.debootstrap.log" >&2; rm -f "$ROOT.debootstrap.log"; die "debootstrap failed"; }
rm -f "$ROOT.debootstrap.log"
log "debootstrap done in $((SECONDS - START)) s"

{
    echo "deb $MIRROR $SUITE main"
    echo "deb $MIRROR $SUITE-updates main"
    [ -n "$SECURITY" ] && echo "deb $SECURITY $SUITE-security main"
} >"$ROOT/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"

in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0)
T=$SECONDS
in_root apt-get -q update >/dev/null
in_root apt-get "${APT_OPTS[@]}" dist-upgrade >/dev/null
log "core tier: $DEB_CORE"
in_root apt-get "${APT_OPTS[@]}" install $DEB_CORE >/dev/null
log "core tier installed in $((SECONDS - T)) s"
if [ "$TIER" = full ]; then
    T=$SECONDS
    log "full tier: $DEB_FULL"
    in_root apt-get "${APT_OPTS[@]}" install $DEB_FULL >/dev/null
    log "full tier installed in $((SECONDS - T)) s"
fi

if [ -n "$PIP_ONLY" ]; then
    # Not packaged in bookworm: pure-Python wheels from PyPI, installed from the
    # host's pip into the image's site directory (same Python 3.11).
    PIP="${PIP:-}"
    if [ -z "$PIP" ]; then
        for py in "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}" python3 python; do
            [ -n "$py" ] && "$py" -m pip --version >/dev/null 2>&1 && { PIP="$py -m pip"; break; }
        done
    fi
    [ -n "$PIP" ] || die "pip is needed on the host for: $PIP_ONLY"
    PYVER="$(in_root python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    log "pip-only (not in $SUITE): $PIP_ONLY"
    $PIP install -q --no-deps --no-compile --only-binary=:all: --python-version "$PYVER" \
        --target "$ROOT/usr/local/lib/python$PYVER/dist-packages" $PIP_ONLY
fi

# Smoke test: every module of the tier imports.
MODS="pytest numpy pandas scipy sklearn matplotlib seaborn networkx flask z3 autograd"
[ "$TIER" = full ] && MODS="$MODS torch cv2"
in_root env MPLBACKEND=Agg python3 -c "import importlib, sys
for m in sys.argv[1:]: importlib.import_module(m)" $MODS || die "an image module does not import"

in_root apt-get -q clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
    "$ROOT"/usr/share/info/* "$ROOT"/var/log/*.log "$ROOT/usr/sbin/policy-rc.d"
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C.UTF-8' -exec rm -rf {} + 2>/dev/null || true
printf 'tier=%s\nsuite=%s\nbuilt=%s\n' "$TIER" "$SUITE" "$(date -u +%FT%TZ)" >"$ROOT/etc/gym-pdb-base"
umount -l "$ROOT/proc"

log "importing $TAG ($(du -sh --one-file-system "$ROOT" | cut -f1))"
tar --numeric-owner --xattrs -C "$ROOT" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    ${GYM_PDB_RECIPE:+--change "LABEL gym-pdb.recipe=$GYM_PDB_RECIPE"} \
    --message "gym-pdb base: debootstrap minbase $SUITE, tier $TIER" \
    - "$TAG" >/dev/null
log "built $TAG in $((SECONDS - START)) s"
