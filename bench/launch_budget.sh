#!/usr/bin/env bash
# bench/launch_budget.sh — where launch → first result of a one-item map
# goes, for `python3 script.py` (evofarm's local farm, WORKERS workers)
# beside multiprocessing.Pool(WORKERS): each run under strace, which stops
# only at the few system calls that mark a stage (--seccomp-bpf: execve,
# clone, vfork, connect, write, exit_group), so the figures are a little
# above the untraced ones; bench/launch_budget.py prints each stage's
# median over RUNS runs. Needs strace.
# Usage: bench/launch_budget.sh [RUNS] [WORKERS]
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-7}
W=${2:-2}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/farm.py" <<'PY'
from evofarm import futures
if __name__ == "__main__":
    print(list(futures.map(abs, [-1])))
PY
cat > "$TMP/pool.py" <<PY
import multiprocessing as mp
if __name__ == "__main__":
    with mp.Pool($W) as p:
        print(p.map(abs, [-1]))
PY
for i in $(seq "$RUNS"); do
    for peer in farm pool; do
        (cd "$TMP" && PYTHONPATH="$ROOT/python" PATH="$ROOT/${BUILD:-build}/bin:$PATH" EVO_FARM_WORKERS=$W \
            strace --seccomp-bpf -f -ttt -s 40 -e trace=execve,clone,clone3,vfork,connect,write,exit_group \
            -e signal=none -o "$TMP/$peer.$i" "$PY" "$peer.py" > /dev/null)
    done
done
"$PY" bench/launch_budget.py "$TMP"
