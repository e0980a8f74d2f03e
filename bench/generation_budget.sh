#!/usr/bin/env bash
# bench/generation_budget.sh — where a generation of the tutorial's job
# goes (DEAP CMA-ES, lambda = 200, trivial fitness, WORKERS workers under
# `evo-farm run`, GENERATIONS generations, EVO_FARM_TRACE on; see
# bench/generation_budget.py): the critical path of a generation and what
# its tasks cost, medians over the generations after the fifth.
# Usage: bench/generation_budget.sh [GENERATIONS] [WORKERS]
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
G=${1:-60}
W=${2:-2}
EVO=${EVO:-$ROOT/${BUILD:-build}/bin/evo-farm}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'evaluate: {python: %s}\n' "$PY" > "$TMP/py.yaml"
(cd "$TMP" && EVO_FARM_TRACE=$TMP/trace PEERS_GENERATIONS=$G "$EVO" run py.yaml -n "$W" -q -- \
    "$PY" "$ROOT/bench/python_peers.py" tutorial evofarm "$W")
"$PY" bench/generation_budget.py "$TMP/trace"
