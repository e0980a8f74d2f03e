#!/usr/bin/env bash
# deb-check.sh — the Debian packages end to end: build them (make deb),
# install them with dpkg -i, run a farm (as the unprivileged job user of
# tests/slurm/user.sh) under the test Slurm cluster whose
# PlugStackConfig is the installed /etc/slurm/plugstack.conf.d/evo-farm.conf,
# using only installed files (/usr/bin/evo-farm, the installed plugin,
# libevofarm and the evofarm Python package), then purge them and check
# that nothing is left. Needs root, debhelper and Slurm (scripts/install-deps).
# Refuses to run if evo-farm is already installed from a package.
set -eu
cd "$(dirname "$0")/../.."
VERSION=$(cat VERSION)
ROOT=$PWD
SCRATCH=$(mktemp -d /tmp/evo-farm-deb.XXXXXX)
CLUSTER=$(mktemp -d /tmp/evo-farm-deb-cluster.XXXXXX) # root's: munged refuses a key under the user's SCRATCH
chmod 755 "$CLUSTER"
export HOME=$SCRATCH/home
mkdir -p "$HOME"
# The farm is run by an unprivileged user, as at a site (tests/slurm/user.sh).
. tests/slurm/user.sh
fail() { echo "deb-check: FAIL: $*"; exit 1; }
if dpkg -s evo-farm > /dev/null 2>&1; then
    echo "deb-check: SKIPPED: an evo-farm package is already installed here"
    exit 0
fi
cleanup() {
    tests/slurm/cluster.sh stop "$CLUSTER" > /dev/null 2>&1 || true
    dpkg --purge slurm-spank-evo-farm evo-farm > /dev/null 2>&1 || true
    rm -rf "$SCRATCH" "$CLUSTER"
    user_remove
}
trap cleanup EXIT
user_make || fail "cannot create the job user $TEST_USER"
tests/packaging/deb-pin-check.sh || fail "make deb"
dpkg -i build/deb/evo-farm_${VERSION}_*.deb build/deb/slurm-spank-evo-farm_${VERSION}_*.deb > "$SCRATCH/dpkg.log" 2>&1 ||
    { cat "$SCRATCH/dpkg.log"; fail "dpkg -i"; }
grep -q "^optional /usr/lib/.*/slurm-wlm/spank_evo_farm.so" /etc/slurm/plugstack.conf.d/evo-farm.conf ||
    fail "the installed snippet does not load the plugin as optional"
if grep -qs "^path-exclude=*/usr/share/man" /etc/dpkg/dpkg.cfg.d/*; then
    echo "deb-check: this system's dpkg excludes /usr/share/man (a container image); man pages not checked"
else
    man -w evo-farm > /dev/null && man -w evo-farm.yaml > /dev/null && man -w spank_evo_farm > /dev/null ||
        fail "man pages not installed"
fi
/usr/bin/python3 -c "import evofarm" || fail "the system python does not find evofarm"

# A farm from installed files only: the build tree is not on any path.
cat > "$SCRATCH/evolution.yaml" <<'YAML'
evaluate: {python: /usr/bin/python3}
YAML
cat > "$SCRATCH/squares.py" <<'PY'
import os
import pwd
import socket
from evofarm import futures

def square(x):
    return x * x, socket.gethostname()

if __name__ == "__main__":
    results = list(futures.map(square, range(500), chunksize=1))
    assert [r[0] for r in results] == [x * x for x in range(500)]
    print("squares ok on", " ".join(sorted(set(r[1] for r in results))), "as", pwd.getpwuid(os.getuid()).pw_name)
PY
PLUGSTACK=/etc/slurm/plugstack.conf.d/evo-farm.conf tests/slurm/cluster.sh start "$CLUSTER" > /dev/null ||
    fail "cluster did not start"
export SLURM_CONF=$CLUSTER/etc/slurm.conf
# the literal form: the installed plugin puts the installed evo-farm in front
(cd "$SCRATCH" && env -u PYTHONPATH -u EVO_FARM_LIBRARY timeout 120 srun --evo-farm=evolution.yaml -N2 -n4 \
    /usr/bin/python3 squares.py) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "srun"; }
grep -q "squares ok on node1 node2 as $TEST_USER$" "$SCRATCH/out" ||
    { cat "$SCRATCH/out"; fail "not evaluated on both nodes by $TEST_USER"; }
# outside any farm the installed package starts a local one from installed files
(cd "$SCRATCH" && as_user env -u PYTHONPATH -u EVO_FARM_LIBRARY -u EVO_FARM_BIN timeout 60 /usr/bin/python3 -c \
    'from evofarm import futures; print("local", list(futures.map(abs, [-1, -2, -3])))') > "$SCRATCH/local" 2>&1 ||
    { cat "$SCRATCH/local"; fail "no local farm from the installed package"; }
grep -q "^local \[1, 2, 3\]$" "$SCRATCH/local" || { cat "$SCRATCH/local"; fail "the local farm gave wrong results"; }
grep -q "$ROOT" "$SCRATCH/out" && fail "the build tree appears in the output"
# the shipped line is optional: a refused step must run nothing all the same
(cd "$SCRATCH" && printf 'evaluate: {command: [x]}\nfarm: {retries: lots}\n' > bad.yaml &&
    srun --evo-farm=bad.yaml -N2 -n2 touch "$SCRATCH/ran") > "$SCRATCH/bad" 2>&1 &&
    { cat "$SCRATCH/bad"; fail "srun accepted a bad file"; }
grep -q "evo-farm: bad.yaml:2:17: farm.retries" "$SCRATCH/bad" || { cat "$SCRATCH/bad"; fail "installed plugin did not validate"; }
[ ! -e "$SCRATCH/ran" ] || { cat "$SCRATCH/bad"; fail "the refused command ran on a task"; }
tests/slurm/cluster.sh stop "$CLUSTER" > /dev/null

dpkg --purge slurm-spank-evo-farm evo-farm > "$SCRATCH/purge.log" 2>&1 || { cat "$SCRATCH/purge.log"; fail "purge"; }
for f in /usr/bin/evo-farm /usr/lib/libevofarm.so.1 /usr/lib/evo-farm /etc/slurm/plugstack.conf.d/evo-farm.conf \
    /usr/lib/python3/dist-packages/evofarm.pth; do
    [ ! -e "$f" ] || fail "$f left after purge"
done
echo "deb-check: built, installed, ran a two-node farm from installed files only, purged cleanly"
