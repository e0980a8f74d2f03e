#!/usr/bin/env bash
# bench/flood.sh — the broker's memory while connections that never
# authenticate flood its TCP port (tests/adversary/probe.py flood), beside
# its resident memory at rest: a farm maps 12,000 evaluations of 1.5 ms on
# one worker while each flood runs; its VmRSS before and VmHWM after are
# printed with the flood's outcome. Not a timed test: a measure for
# docs/performance.md. Usage: bench/flood.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$PWD
PY=$(command -v /usr/bin/python3 || command -v python3)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home"
printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: slow_sphere}\n' \
    "$ROOT/$BUILD/examples/libtestfns.so" > "$TMP/farm.yaml"
protocol=$("$BUILD/bin/evo-farm" --version | sed -n 's/.*(protocol \([0-9]*\)).*/\1/p')

# flood CONNECTIONS FRAME_BYTES SEND_BYTES SECONDS
flood() {
    local pid port before out peak record=""
    HOME="$TMP/home" "$BUILD/bin/evo-farm" run "$TMP/farm.yaml" -n 1 -- \
        "$BUILD/tests/mapdriver" verify slow_sphere 12000 2 > "$TMP/run.out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        record=$(ls "$TMP/home/.evo-farm/farms/"*"-$pid" 2> /dev/null || true)
        [ -n "$record" ] && break
        sleep 0.05
    done
    port=$(sed -n 's/^endpoints tcp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$record")
    before=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    out=$(PROBE_PROTOCOL=$protocol "$PY" tests/adversary/probe.py flood 127.0.0.1 "$port" "$@")
    peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    wait $pid
    printf '%3d connections, frames of %5d MiB, %5d MiB sent each: %s; broker %6d KiB at rest, peak %7d KiB; %s\n' \
        "$1" $(($2 >> 20)) $(($3 >> 20)) "$out" "$before" "$peak" "$(grep -c 'all as expected' "$TMP/run.out") map(s) whole"
}

flood 8 $((1 << 30)) $((64 << 20)) 15
flood 64 $((1 << 30)) $((64 << 20)) 15
flood 32 $((16 << 20)) $((16 << 20)) 8
