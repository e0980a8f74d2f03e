#!/usr/bin/env bash
# bench/slurm-startup.sh — how long an --evo-farm step takes to start on the
# test Slurm cluster (tests/slurm/cluster.sh, two nodes on this machine),
# beside `srun true` of the same shape, in one run:
#   srun true            wall time of a step that does nothing
#   first result         srun start -> first evaluation back at rank 0's
#                        driver (PMIx wire-up, broker, a worker, the evaluator)
#   evo-farm step        wall time of a whole --evo-farm step with that one
#                        evaluation (includes shutting every worker down)
# Shapes: -N2 -n6 -O and -N2 -n32 -O (the nodes declare the CPUs they
# really have, 2 each on this machine, so both are overcommitted).
# Then a Python driver that imports numpy, scipy.stats (and pandas when
# installed) at its top: srun of the imports alone beside the step's first
# result, with the fork server and with start: spawn.
# Medians of REPEAT runs (default 5). Needs root, like the Slurm tests.
# Usage: bench/slurm-startup.sh [REPEAT]
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
EVO=$ROOT/$BUILD/bin/evo-farm
BENCH=$ROOT/$BUILD/bench/farmbench
REPEAT=${1:-5}
TMP=$(mktemp -d /tmp/evo-farm-bench.XXXXXX)
trap '"$ROOT"/tests/slurm/cluster.sh stop "$TMP/cluster" > /dev/null 2>&1; rm -rf "$TMP"' EXIT
tests/slurm/cluster.sh start "$TMP/cluster" loopback > /dev/null
export SLURM_CONF=$TMP/cluster/etc/slurm.conf
printf 'evaluate: {library: %s, function: rastrigin}\n' "$ROOT/$BUILD/examples/librastrigin.so" > "$TMP/e.yaml"
cd "$TMP"

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "== evo-farm $("$EVO" --version | cut -d' ' -f2), Slurm $(srun --version | cut -d' ' -f2), two test nodes on $(nproc) cores, $(date -u +%Y-%m-%d)"
printf '%-16s %14s %16s %16s %10s\n' shape "srun true ms" "first result ms" "evo-farm step ms" "step/true"
for shape in "-N2 -n6 -O" "-N2 -n32 -O"; do
    true_ms=() first_ms=() step_ms=()
    srun $shape true # warm-up: first step after start-up pays extra
    for _ in $(seq "$REPEAT"); do
        t0=$(date +%s%N)
        srun $shape true
        true_ms+=("$(ms_since "$t0")")
        t0=$(date +%s%N)
        out=$(srun --evo-farm=e.yaml $shape "$EVO" "$BENCH" startup "$t0" 10 2>&1) ||
            { echo "$out"; exit 1; }
        step_ms+=("$(ms_since "$t0")")
        first_ms+=("$(echo "$out" | sed -nE 's/^startup: first result ([0-9.]+) ms.*/\1/p')")
    done
    t=$(printf '%s\n' "${true_ms[@]}" | median)
    f=$(printf '%s\n' "${first_ms[@]}" | median)
    s=$(printf '%s\n' "${step_ms[@]}" | median)
    printf '%-16s %14s %16s %16s %10s\n' "$shape" "$t" "$f" "$s" "$(awk -v a="$s" -v b="$t" 'BEGIN {printf "%.2f", a / b}')"
    echo "   runs: true ${true_ms[*]} | first ${first_ms[*]} | step ${step_ms[*]}"
done
echo "(medians of $REPEAT runs; every figure of a row is from the same runs)"

# A Python driver whose top imports a pyABC-sized stack: `srun` of those
# imports alone (every task imports them once), beside the --evo-farm
# step's first result with its workers forked from each node's fork
# server (start: fork, the default) and started afresh (start: spawn).
HEAVY=numpy,scipy.stats
PY_SHAPE=${PY_SHAPE:--N2 -n3 -O} # PY_SHAPE="-N2 -n8 -O": more workers per node
! /usr/bin/python3 -c 'import pandas' 2> /dev/null || HEAVY=$HEAVY,pandas
printf 'evaluate: {python: /usr/bin/python3}\n' > fork.yaml
printf 'evaluate: {python: /usr/bin/python3, start: spawn}\n' > spawn.yaml
cat > heavy.py <<PY
import sys, time
import ${HEAVY//,/, }
from evofarm import futures
if __name__ == "__main__":
    assert list(futures.map(abs, [-1])) == [1]
    print("first result %.0f ms" % ((time.time_ns() - int(sys.argv[1])) / 1e6))
PY
echo "== a Python driver importing $HEAVY at its top, $PY_SHAPE (rank 0 the driver, every other task a worker)"
printf '%-28s %10s\n' "" "median ms"
srun $PY_SHAPE /usr/bin/python3 -c "import ${HEAVY//,/, }" # warm-up: the page cache
imports=() fork=() spawn=()
for _ in $(seq "$REPEAT"); do
    t0=$(date +%s%N)
    srun $PY_SHAPE /usr/bin/python3 -c "import ${HEAVY//,/, }"
    imports+=("$(ms_since "$t0")")
    for mode in fork spawn; do
        t0=$(date +%s%N)
        out=$(PYTHONPATH=$ROOT/python srun --evo-farm=$mode.yaml $PY_SHAPE /usr/bin/python3 heavy.py "$t0" 2>&1) ||
            { echo "$out"; exit 1; }
        ms=$(echo "$out" | sed -nE 's/^first result ([0-9]+) ms/\1/p')
        if [ $mode = fork ]; then fork+=("$ms"); else spawn+=("$ms"); fi
    done
done
i=$(printf '%s\n' "${imports[@]}" | median)
f=$(printf '%s\n' "${fork[@]}" | median)
s=$(printf '%s\n' "${spawn[@]}" | median)
printf '%-28s %10s\n' "srun python3 -c 'import ...'" "$i" "first result, fork server" "$f" "first result, start: spawn" "$s"
awk -v i="$i" -v f="$f" -v s="$s" 'BEGIN {printf "fork / imports = %.2f, spawn / imports = %.2f (same runs)\n", f / i, s / i}'
echo "   runs: imports ${imports[*]} | fork ${fork[*]} | spawn ${spawn[*]}"
