#!/usr/bin/env bash
# run-all.sh — the integration suite: real farms (broker, worker processes,
# evaluator children, libzmq with CURVE) on this machine. Each test_* file
# defines functions named t_*; every one runs and the suite reports all.
set -u
cd "$(dirname "$0")" || exit 1
. ./lib.sh
for file in test_*.sh; do
    . "./$file"
done
run_tests integration
