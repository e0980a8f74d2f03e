#!/usr/bin/env bash
# bench/cmaes-vs-deap.sh — the tutorial's job (CMA-ES on Rastrigin, N = 10,
# centroid 5.0, sigma 5.0, lambda 200, 250 generations) through evo-farm's
# built-in CMA-ES and through DEAP (Debian's python3-deap, builtin map),
# for the same seeds: the best fitness each reaches. Usage:
#   bench/cmaes-vs-deap.sh [SEEDS]   (default 5: seeds 1..5)
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
SEEDS=${1:-5}
PY=$(command -v /usr/bin/python3 || command -v python3)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" -c "import deap" 2> /dev/null || { echo "needs python3-deap (apt-get install python3-deap)"; exit 2; }
echo "== tutorial job, N = 10: best fitness per seed (lower is better; 0 is the optimum)"
for seed in $(seq "$SEEDS"); do
    sed -e "s|../../build|$ROOT/build|" -e "s|seed: 1 .*|seed: $seed|" examples/rastrigin/evolution.yaml > "$TMP/e.yaml"
    (cd "$TMP" && "$ROOT/build/bin/evo-farm" run e.yaml -q > /dev/null 2>&1)
    fit=$(sed -nE 's/.*"fit": ([^,]+),/\1/p' "$TMP/results/result.json")
    gens=$(sed -nE 's/.*"generations": ([0-9]+),/\1/p' "$TMP/results/result.json")
    evals=$(sed -nE 's/.*"evaluations": ([0-9]+),/\1/p' "$TMP/results/result.json")
    stop=$(sed -nE 's/.*"stop": "([a-z]+)",/\1/p' "$TMP/results/result.json")
    time=$(sed -nE 's/.*"time": ([0-9.]+),/\1/p' "$TMP/results/result.json")
    printf 'evo-farm N=10 seed=%d: fit %.6g after %d generations (stop: %s), %d evaluations, %.1f s\n' \
        "$seed" "$fit" "$gens" "$stop" "$evals" "$time"
    # the tutorial's script itself (examples/deap), with the builtin map
    (cd "$TMP" && PYTHONPATH="$ROOT/python" "$PY" "$ROOT/examples/deap/evolution.py" 10 --seed "$seed" --builtin-map |
        sed "s/^/deap N=10 seed=$seed: /")
done
