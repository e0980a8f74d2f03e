#!/usr/bin/env bash
# bench/python_budget.sh — where one Python call's round trip goes
# (futures.submit(f, x).result() on a 1-worker farm, EVO_FARM_TRACE; see
# bench/latency_budget.py): medians of 2,000 round trips after 100.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
EVO=$ROOT/${BUILD:-build}/bin/evo-farm
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'evaluate: {python: %s}\n' "$PY" > "$TMP/py.yaml"
cat > "$TMP/rt.py" <<'PY'
from evofarm import futures
def inc(x):
    return x + 1
if __name__ == "__main__":
    for i in range(2100):
        futures.submit(inc, i).result()
PY
(cd "$TMP" && EVO_FARM_TRACE=$TMP/trace "$EVO" run py.yaml -n 1 -q -- "$PY" rt.py)
"$PY" bench/latency_budget.py "$TMP/trace"
