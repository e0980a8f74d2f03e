#!/usr/bin/env bash
# deb-pin-check.sh — `make deb` on this system, and the plugin package pinned
# to the Slurm it was built against (as pyxis does): its Depends names this
# system's slurm-client version exactly, and it holds the plugin. Run on the
# host by deb-check.sh and inside each Slurm root (tests/slurm/versions).
set -eu
cd "$(dirname "$0")/../.."
VERSION=$(cat VERSION)
fail() { echo "deb-pin-check: FAIL: $*"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make deb > "$log" 2>&1 || { tail -20 "$log"; fail "make deb"; }
slurm=$(dpkg-query -W -f='${Version}' libslurm-dev)
plugin=$(ls "${BUILD:-build}"/deb/slurm-spank-evo-farm_${VERSION}_*.deb)
dpkg-deb -f "$plugin" Depends | grep -qF "slurm-client (= $slurm)" ||
    fail "the plugin package does not depend on slurm-client (= $slurm): $(dpkg-deb -f "$plugin" Depends)"
dpkg-deb -c "$plugin" | grep "/slurm-wlm/spank_evo_farm.so$" > /dev/null || fail "the plugin package lacks spank_evo_farm.so"
echo "deb-pin-check: the plugin package for Slurm $slurm depends on slurm-client (= $slurm)"
