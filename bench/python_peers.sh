#!/usr/bin/env bash
# bench/python_peers.sh — evofarm.futures against Python's peers installable
# from Debian (multiprocessing.Pool, ProcessPoolExecutor, mpi4py.futures,
# dask.distributed), same worker count, in one run; each figure is the
# median of REPEAT runs (default 3). See bench/python_peers.py. Needs
# python3-deap, python3-numpy, python3-mpi4py, openmpi-bin and
# python3-distributed (apt-get install); a peer that is missing says "failed".
# Modes: roundtrip (one call at a time, us), launch (command start to the
# first result, ms), heavy (the same with numpy, scipy.stats and, when
# python3-pandas is installed, pandas imported at the script's top; peer
# "spawn" is evofarm with `start: spawn`), trivial (calls/s), tutorial (250 generations, s), job
# (20 generations of 1 ms calls, % of ideal); MODES="..." picks some.
# trivial_best: evofarm's trivial calls against Pool's at each chunk size
# of CHUNKS ("0 500 1000 2500 5000 12500", 0 its default) and its best.
# Two modes compare evofarm with Pool alone, on the tutorial's job, so
# that this machine's noise cannot decide: pairs (PAIRS interleaved runs,
# default 10, evofarm then Pool each time: the median of the pairs'
# ratios and their spread; PAIR_MODE=job pairs the 1 ms job instead)
# and instructions (each peer under valgrind's
# cachegrind, every process of it counted, at GEN_SHORT and GEN_LONG
# generations, default 10 and 30: the difference over the generations is
# a generation's instructions, start-up left out, per kind of process;
# they do not depend on what the other core does). Neither is in the
# default MODES.
# PEERS="evofarm pool" measures those peers alone in the other modes.
# Usage: bench/python_peers.sh [REPEAT] [WORKERS]
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
REPEAT=${1:-3}
W=${2:-$(nproc)}
PY=/usr/bin/python3
EVO=${EVO:-$ROOT/${BUILD:-build}/bin/evo-farm} # EVO=another/tree/build/bin/evo-farm: that tree (its package comes with it)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'evaluate: {python: %s}\n' "$PY" > "$TMP/py.yaml"
printf 'evaluate: {python: %s, start: spawn}\n' "$PY" > "$TMP/spawn.yaml"
# heavy: launch with a pyABC-sized stack imported at the script's top
HEAVY=numpy,scipy.stats
! "$PY" -c 'import pandas' 2> /dev/null || HEAVY=$HEAVY,pandas
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # mpiexec refuses root otherwise

one() { # MODE PEER — one run's result line
    local t0 mode=$1
    if [ "$mode" = heavy ]; then
        export PEERS_IMPORTS=$HEAVY
        mode=launch
    else
        unset PEERS_IMPORTS
    fi
    t0=$("$PY" -c 'import time; print(repr(time.time()))')
    set -- "$mode" "$2" "$1"
    case $2 in
    evofarm) (cd "$TMP" && ${VALGRIND:-} "$EVO" run py.yaml -n "$W" -q -- "$PY" "$ROOT/bench/python_peers.py" "$1" evofarm "$W" "$t0") ;;
    spawn) (cd "$TMP" && "$EVO" run spawn.yaml -n "$W" -q -- "$PY" "$ROOT/bench/python_peers.py" "$1" evofarm "$W" "$t0") ;;
    embedded) (cd "$TMP" && env -u EVO_FARM_ENDPOINT EVO_FARM_WORKERS="$W" PYTHONPATH="$(dirname "$(dirname "$(dirname "$EVO")")")/python" "$PY" "$ROOT/bench/python_peers.py" "$1" evofarm "$W" "$t0") ;;
    mpi4py) (cd "$TMP" && mpiexec --oversubscribe -n $((W + 1)) "$PY" -m mpi4py.futures "$ROOT/bench/python_peers.py" "$1" mpi4py "$W" "$t0") ;;
    *) (cd "$TMP" && ${VALGRIND:-} "$PY" "$ROOT/bench/python_peers.py" "$1" "$2" "$W" "$t0") ;;
    esac 2> /dev/null | grep "^$1 \(evofarm\|$2\):" | sed "s/^$1 evofarm:/$3 $2:/; s/^$1 $2:/$3 $2:/"
}

echo "== Python peers, $W workers, $(nproc) cores, medians of $REPEAT runs, $(date -u +%Y-%m-%d)"
peers_of() { # MODE — the peers measured for it (PEERS="a b": those)
    [ -z "${PEERS:-}" ] || { echo "$PEERS"; return; }
    case $1 in
    tutorial) echo serial evofarm pool ppe mpi4py ;; # dask: 50,000 calls at about 11 ms each
    launch) echo evofarm embedded pool ppe mpi4py dask ;;
    heavy) echo evofarm spawn embedded pool ;; # evofarm: forked from the fork server; spawn: start: spawn
    *) echo evofarm pool ppe mpi4py dask ;;
    esac
}

# pairs: the tutorial's job (PAIR_MODE: another mode), evofarm and Pool
# one after the other, PAIRS times; each pair's ratio, then the median
# ratio and its spread.
pairs() {
    local ratios=() e p line mode=${PAIR_MODE:-tutorial}
    for i in $(seq "${PAIRS:-10}"); do
        line=$(one "$mode" evofarm) && e=$(echo "$line" | sed -E 's/.*= ([0-9.]+).*/\1/') || { echo "  pairs: evofarm failed"; return 1; }
        line=$(one "$mode" pool) && p=$(echo "$line" | sed -E 's/.*= ([0-9.]+).*/\1/') || { echo "  pairs: pool failed"; return 1; }
        ratios+=("$(awk -v e="$e" -v p="$p" 'BEGIN {printf "%.3f", e / p}')")
        printf '  pair %2d: evofarm %s, pool %s, ratio %s\n' "$i" "$e" "$p" "${ratios[-1]}"
    done
    printf '%s\n' "${ratios[@]}" | sort -g | awk -v m="$mode" '{v[NR] = $1} END {
        printf "  " m " evofarm / pool over %d interleaved pairs: median %.3f, quartiles %.3f to %.3f, range %.3f to %.3f\n",
            NR, (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2, v[int((NR + 3) / 4)], v[NR + 1 - int((NR + 3) / 4)], v[1], v[NR]
    }'
}

# trivial_best: 100,000 trivial calls, evofarm with its own chunks against
# Pool with each chunk size of CHUNKS (its best is what evofarm must beat).
trivial_best() {
    local line best=0 e
    line=$(one trivial evofarm) || { echo "  trivial_best: evofarm failed"; return 1; }
    e=$(echo "$line" | sed -E 's/.*= ([0-9.]+).*/\1/')
    echo "  trivial_best evofarm: $e calls/s"
    for c in ${CHUNKS:-0 500 1000 2500 5000 12500}; do
        line=$(PEERS_CHUNKSIZE=$c one trivial pool) || continue
        v=$(echo "$line" | sed -E 's/.*= ([0-9.]+).*/\1/')
        echo "  trivial_best pool chunksize $([ "$c" = 0 ] && echo default || echo "$c"): $v calls/s"
        best=$(awk -v a="$best" -v b="$v" 'BEGIN {print (b > a) ? b : a}')
    done
    awk -v e="$e" -v p="$best" 'BEGIN {printf "  trivial_best evofarm / pool'"'"'s best = %.2f (same run)\n", e / p}'
}

# instructions: a generation's instructions (valgrind's cachegrind, every
# process counted) for evofarm and Pool, and each kind of process's share,
# beside the serial job's (the floor: DEAP and the evaluations alone).
instructions() {
    local short=${GEN_SHORT:-10} long=${GEN_LONG:-30} peer g
    command -v valgrind > /dev/null || { echo "  instructions: valgrind is not installed"; return 1; }
    for peer in serial evofarm pool; do # serial: DEAP's own work and the evaluations, in the driver alone
        for g in "$short" "$long"; do
            rm -rf "$TMP/vg-$peer-$g" && mkdir "$TMP/vg-$peer-$g"
            VALGRIND="valgrind --tool=cachegrind --cache-sim=no --trace-children=yes --cachegrind-out-file=/dev/null --log-file=$TMP/vg-$peer-$g/%p" \
                PEERS_GENERATIONS=$g one tutorial "$peer" > /dev/null || { echo "  instructions: $peer failed"; return 1; }
        done
        "$PY" "$ROOT/bench/instructions.py" "$peer" $((long - short)) "$TMP/vg-$peer-$short" "$TMP/vg-$peer-$long"
    done
}

declare -A medians
for mode in ${MODES:-roundtrip launch trivial tutorial job}; do
    case $mode in
    pairs) pairs; continue ;;
    instructions) instructions; continue ;;
    trivial_best) trivial_best; continue ;;
    esac
    medians=()
    for peer in $(peers_of "$mode"); do
        values=() line=""
        for _ in $(seq "$REPEAT"); do
            line=$(one "$mode" "$peer") || { echo "  $mode $peer: failed"; continue 2; }
            values+=("$(echo "$line" | sed -E 's/.*= ([0-9.]+).*/\1/')")
        done
        median=$(printf '%s\n' "${values[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
        medians[$peer]=$median
        printf '  %-8s %-8s median %-10s [%s]   last: %s\n' "$mode" "$peer" "$median" "${values[*]}" "${line#*: }"
    done
    if [ -n "${medians[evofarm]:-}" ] && [ -n "${medians[pool]:-}" ]; then
        awk -v m="$mode" -v e="${medians[evofarm]}" -v p="${medians[pool]}" \
            'BEGIN {printf "  %-8s evofarm / pool = %.2f (same run)\n", m, e / p}'
    fi
done
