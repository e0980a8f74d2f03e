#!/usr/bin/env bash
# run-all.sh — the integration suite: real farms (broker, worker processes,
# evaluator children, libzmq with CURVE) on this machine. Each test_* file
# defines functions named t_*; every one runs and the suite reports all.
set -u
cd "$(dirname "$0")"
. ./lib.sh
pass=0 failed=()
for file in test_*.sh; do
    . "./$file"
done
for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
    start=$(date +%s%N)
    if out=$("$t" 2>&1); then
        pass=$((pass + 1))
        printf 'PASS %-32s %6d ms\n' "$t" $(( ($(date +%s%N) - start) / 1000000 ))
    else
        failed+=("$t")
        printf 'FAIL %-28s\n%s\n' "$t" "$out"
    fi
done
echo "integration: ${pass} passed, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
