#!/usr/bin/env bash
# bench/python_peers.sh — evofarm.futures against Python's peers installable
# from Debian (multiprocessing.Pool, ProcessPoolExecutor, mpi4py.futures,
# dask.distributed), same worker count, in one run; each figure is the
# median of REPEAT runs (default 3). See bench/python_peers.py. Needs
# python3-deap, python3-numpy, python3-mpi4py, openmpi-bin and
# python3-distributed (apt-get install); a peer that is missing says "failed".
# Usage: bench/python_peers.sh [REPEAT] [WORKERS]
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
REPEAT=${1:-3}
W=${2:-$(nproc)}
PY=/usr/bin/python3
EVO=$ROOT/${BUILD:-build}/bin/evo-farm
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'evaluate: {python: %s}\n' "$PY" > "$TMP/py.yaml"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # mpiexec refuses root otherwise

one() { # MODE PEER — one run's result line
    case $2 in
    evofarm) (cd "$TMP" && "$EVO" run py.yaml -n "$W" -q -- "$PY" "$ROOT/bench/python_peers.py" "$1" evofarm "$W") ;;
    mpi4py) (cd "$TMP" && mpiexec --oversubscribe -n $((W + 1)) "$PY" -m mpi4py.futures "$ROOT/bench/python_peers.py" "$1" mpi4py "$W") ;;
    *) (cd "$TMP" && "$PY" "$ROOT/bench/python_peers.py" "$1" "$2" "$W") ;;
    esac 2> /dev/null | grep "^$1 $2:"
}

echo "== Python peers, $W workers, $(nproc) cores, medians of $REPEAT runs, $(date -u +%Y-%m-%d)"
for mode in trivial job; do
    for peer in evofarm pool ppe mpi4py dask; do
        values=() line=""
        for _ in $(seq "$REPEAT"); do
            line=$(one "$mode" "$peer") || { echo "  $mode $peer: failed"; continue 2; }
            values+=("$(echo "$line" | sed -E 's/.*= ([0-9.]+).*/\1/')")
        done
        median=$(printf '%s\n' "${values[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
        printf '  %-8s %-8s median %-10s [%s]   last: %s\n' "$mode" "$peer" "$median" "${values[*]}" "${line#*: }"
    done
done
