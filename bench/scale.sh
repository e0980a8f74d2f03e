#!/usr/bin/env bash
# bench/scale.sh — the broker at scale (figures in
# docs/performance.md, "Scale"): build/bench/scale REPEAT times (default 3)
# at 100, 1,000, 5,000 and 10,000 simulated workers with the median of each
# figure, then 500 real worker processes with a trivial library evaluator
# under `evo-farm run`. With PLOT=FILE.svg also draws the medians
# (bench/scale_plot.py). Usage: bench/scale.sh [REPEAT] [SIZES...]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPEAT=${1:-3}
shift || true
SIZES=${*:-100 1000 5000 10000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "== bench/scale on $(nproc) cores, $(date -u +%Y-%m-%d), $REPEAT runs"
for _ in $(seq "$REPEAT"); do
    "$BUILD/bench/scale" $SIZES | tee -a "$TMP/runs"
done
# the medians, one line per size: workers connect_s work_s rate us_per_task own_us p50 p99 rss_mib
echo "-- medians of $REPEAT runs"
perl -ne 'print "$1 $2 $3 $4 $5 $6 $7 $8 $9\n" if
    /^scale +(\d+) workers: connect ([\d.]+) s .*all given work ([\d.]+) s .*dispatch (\d+) tasks\/s, broker CPU ([\d.]+) us\/task \(its own thread ([\d.]+)\), round trip p50 (\d+) us p99 (\d+) us, broker RSS ([\d.]+) MiB/' \
    "$TMP/runs" | awk '
    function median(list, n,   a, i, j, t) { split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
    { w = $1; n[w]++; for (k = 2; k <= 9; k++) v[w, k] = v[w, k] " " $k; if (!(w in seen)) { seen[w] = 1; order[++sizes] = w } }
    END { printf "%-8s %9s %9s %11s %11s %11s %9s %9s %9s\n", "workers", "connect_s", "work_s", "tasks/s", "cpu_us/task", "own_us/task", "p50_us", "p99_us", "rss_MiB"
          for (s = 1; s <= sizes; s++) { w = order[s]; printf "%-8s", w; for (k = 2; k <= 9; k++) printf " %9s", median(v[w, k], n[w]); printf "\n" } }' \
    | tee "$TMP/medians"
[ -z "${PLOT:-}" ] || python3 bench/scale_plot.py "$TMP/medians" "$PLOT"
echo "-- 500 real workers (evo-farm run -n 500), library evaluator rastrigin d=10, 10^6 evaluations"
printf 'evaluate: {library: %s, function: rastrigin}\n' "$PWD/$BUILD/examples/librastrigin.so" > "$TMP/r.yaml"
start=$(date +%s%N)
"$BUILD/bin/evo-farm" run "$TMP/r.yaml" -n 500 -- sh -c "
    '$BUILD/bench/farmbench' throughput 1000000 10
    grep -E '^Vm(RSS|HWM)' /proc/\$PPID/status | tr -s ' \t' ' ' | sed 's/^/broker (evo-farm run) /'" 2>&1 |
    grep -E "^throughput|^broker|evaluations done|connected at the end" | sed 's/^/  /'
echo "  wall $(( ($(date +%s%N) - start) / 1000000 )) ms from start to the farm's end"
