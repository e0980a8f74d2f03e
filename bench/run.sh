#!/usr/bin/env bash
# bench/run.sh — the runtime's benchmarks (never timed tests). Each figure is
# the median of REPEAT runs (default 5), printed with the command behind it;
# the peer (Python's multiprocessing.Pool) runs in the same session so ratios
# compare like with like. Usage: bench/run.sh [REPEAT]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
EVO=$BUILD/bin/evo-farm
BENCH=$BUILD/bench/farmbench
LIB=$PWD/$BUILD/examples/librastrigin.so
FNS=$PWD/$BUILD/examples/libtestfns.so
FLOORS=$BUILD/bench/floors
PY=$(command -v /usr/bin/python3 || command -v python3)
REPEAT=${1:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'evaluate: {library: %s, function: rastrigin}\n' "$LIB" > "$TMP/rastrigin.yaml"
printf 'evaluate: {library: %s, function: sleep_1ms}\n' "$FNS" > "$TMP/sleep.yaml"
printf 'evaluate: {library: %s, function: busy_1ms}\n' "$FNS" > "$TMP/busy.yaml"

# median CMD... — runs CMD REPEAT times, prints every line and the median of
# the first number after '=' (or 'median') on the result line.
median() {
    local values=() line
    for _ in $(seq "$REPEAT"); do
        line=$("$@" 2>/dev/null | grep -E '^(throughput|latency|efficiency|serial|multiprocessing|floor)' | tail -1)
        values+=("$(echo "$line" | sed -E 's/.*(= |median )([0-9.]+).*/\2/')")
    done
    printf '%s\n' "${values[@]}" | sort -g | awk -v label="$*" '{v[NR]=$1} END {printf "  median %-12s of %d runs  [%s]\n", v[int((NR+1)/2)], NR, label}'
    echo "    last: $line"
}

echo "== evo-farm $($EVO --version | cut -d' ' -f2) on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
echo "-- throughput, Rastrigin d=10 library evaluator, 10^6 evaluations (evaluations/s)"
for w in 1 2; do median "$EVO" run "$TMP/rastrigin.yaml" -n $w -q -- "$BENCH" throughput 1000000 10; done
echo "-- the machine's floors: one round trip between two processes (microseconds)"
for mode in socketpair pipes tcp tcp-curve ipc ipc-curve; do median "$FLOORS" "$mode" 5000; done
echo "-- where a one-item map round trip goes (EVO_FARM_TRACE, medians of 2,000; bench/latency_budget.py)"
EVO_FARM_TRACE=$TMP/trace "$EVO" run "$TMP/rastrigin.yaml" -n 1 -q -- "$BENCH" latency 2000 10 >/dev/null 2>&1
"$PY" bench/latency_budget.py "$TMP/trace" | sed 's/^/  /'
echo "-- one-item map round trip (microseconds), 1 worker"
median "$EVO" run "$TMP/rastrigin.yaml" -n 1 -q -- "$BENCH" latency 2000 10
median "$PY" bench/peer_multiprocessing.py latency 2000
W=$(nproc)
echo "-- efficiency, 1 ms evaluations on $W workers (percent of ideal = $W x 1000/s)"
median "$BENCH" serial "$FNS" sleep_1ms 2000 10
median "$EVO" run "$TMP/sleep.yaml" -n "$W" -q -- "$BENCH" efficiency $((W * 2000)) 10 "$W"
median "$PY" bench/peer_multiprocessing.py efficiency $((W * 2000)) "$W" sleep
median "$EVO" run "$TMP/busy.yaml" -n "$W" -q -- "$BENCH" efficiency $((W * 2000)) 10 "$W"
median "$PY" bench/peer_multiprocessing.py efficiency $((W * 2000)) "$W" busy
