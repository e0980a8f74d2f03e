#!/usr/bin/env bash
# run-all.sh — the adversary suite: another unprivileged user of the same
# machine attacks a farm run by a first one, as on a shared login node or
# an OverSubscribe compute node. The suite (as root) makes both users: the
# victim (TEST_USER, tests/slurm/user.sh) runs every farm; the adversary
# (ADVERSARY) plants files where both may write, connects to the farm's
# TCP port, tries the keys the victim shares with it, and speaks the
# protocol with tests/adversary/probe.py. Loopback and this machine only:
# nothing here needs a network or Slurm. docs/protocol.md, "Threat model",
# points at each test.
set -u
cd "$(dirname "$0")" || exit 1
if [ "$(id -u)" != 0 ]; then
    echo "adversary: skipped: it makes two users (useradd) and acts as each; run it as root"
    exit 0
fi
TEST_USER=evofarm-victim
SUITE_SCRIPT=tests/adversary/run-all.sh
. ../integration/lib.sh
. ../slurm/user.sh
. ./lib.sh
user_make || { echo "run-all.sh: cannot create the victim $TEST_USER"; exit 1; }
user_reach_tree
adversary_make || { echo "run-all.sh: cannot create the adversary $ADVERSARY"; exit 1; }
trap 'rm -rf "$SCRATCH"; adversary_remove; user_remove' EXIT
for file in test_*.sh; do
    . "./$file"
done
run_tests adversary
