# test_signals.sh — the signals a job's end or a checkpoint recipe sends
# to every process of a step (scancel -s SIG, --signal=SIG@T): the driver
# gets them and acts; no process of the farm dies of them (docs/slurm.md,
# "Signals and time limits").

# farm_tree RUNPID — RUNPID and every descendant of it.
farm_tree() {
    local p q
    for p in $(own_pids .); do
        q=$p
        while [ "$q" -gt 1 ] && [ "$q" != "$1" ]; do q=$(ps -o ppid= -p "$q" 2> /dev/null | tr -d ' '); [ -n "$q" ] || q=1; done
        [ "$q" = "$1" ] && echo "$p"
    done
    return 0
}

# USR1, USR2, HUP and ALRM sent to every process of a local farm, as
# Slurm's proctrack sends them to a step: the Python driver's handlers
# run, its map goes on, and no worker or evaluator is lost to them.
t_job_signals_reach_the_driver_and_spare_the_farm() {
    printf 'farm: {heartbeat: 200ms}\nevaluate: {python: %s}\n' "$PY" > "$SCRATCH/sig.yaml"
    (cd "$SCRATCH" && PYTHONPATH="$ROOT/python" exec "$EVO" run sig.yaml -n 2 -- "$PY" \
        "$ROOT/tests/integration/signals.py" "$SCRATCH/mapping") > "$SCRATCH/out" 2>&1 &
    local runpid=$! sig rc=0
    for _ in $(seq 300); do [ -s "$SCRATCH/mapping" ] && break; sleep 0.05; done
    [ -s "$SCRATCH/mapping" ] || { kill "$runpid"; cat "$SCRATCH/out"; fail "the driver never mapped"; }
    for sig in USR1 USR2 HUP ALRM; do
        kill -s "$sig" $(farm_tree "$runpid") 2> /dev/null || true
        sleep 0.3
    done
    wait "$runpid" || rc=$?
    [ $rc = 0 ] || { cat "$SCRATCH/out"; fail "the farm exited with $rc"; }
    expect_in "$SCRATCH/out" "signals ok: SIGHUP SIGUSR1 SIGUSR2 SIGALRM"
    ! grep -E "restarting it|killed by signal| [1-9][0-9]* (failed|retried|requeued)" "$SCRATCH/out" || fail "a signal cost the farm a process"
}
