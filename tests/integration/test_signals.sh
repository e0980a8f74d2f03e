# test_signals.sh — the signals a job's end or a checkpoint recipe sends
# to every process of a step (scancel -s SIG, --signal=SIG@T): the driver
# gets them and acts; no process of the farm dies of them (docs/slurm.md,
# "Signals and time limits").

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

# SIGTERM (a time limit, scancel, preemption) sent to every process of a
# built-in CMA-ES farm with no periodic checkpoint: the driver writes a
# checkpoint of its last whole generation and exits 143; the same command
# run again resumes from it by itself and ends with the logbook and
# result of a run never stopped; a checkpoint of another configuration is
# said in one line and the run starts afresh.
t_cmaes_sigterm_checkpoints_and_rerun_resumes() {
    local cfg; cfg=$(cmaes_config term slow_rastrigin 120)
    sed -i 's/^  checkpoint: 5$/  checkpoint: 0/' "$cfg"
    rm -rf "$SCRATCH/full" "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q > /dev/null 2>&1 && mv results full) || fail "uninterrupted run"
    (cd "$SCRATCH" && exec "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 &
    local farm=$! at=0 rc=0 start ms
    for _ in $(seq 500); do
        at=$(($({ wc -l < "$SCRATCH/results/logbook.csv"; } 2> /dev/null || echo 1) - 1)) # its header, then a line a generation
        [ "$at" -ge 31 ] && break
        sleep 0.02
    done
    [ "$at" -ge 31 ] || { kill $farm; fail "the run never reached generation 31"; }
    start=$(date +%s%N)
    kill -TERM $(farm_tree $farm) 2> /dev/null || true
    wait $farm || rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    [ $rc = 143 ] || { cat "$SCRATCH/out"; fail "the farm exited $rc after SIGTERM, not 143"; }
    expect_in "$SCRATCH/out" "cma-es: stopped by signal 15 at generation"
    [ -f "$SCRATCH/results/checkpoint" ] && [ ! -e "$SCRATCH/results/result.json" ] || fail "no checkpoint, or a result.json"
    at=$(sed -n 's/^generations //p' "$SCRATCH/results/checkpoint")
    [ "$at" -lt 120 ] || fail "the run had finished before SIGTERM"
    echo "    SIGTERM at generation $at: checkpoint written and the farm gone in $ms ms"
    cp -r "$SCRATCH/results" "$SCRATCH/other"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "the rerun failed"; }
    expect_in "$SCRATCH/out" "cma-es: resuming results at generation $at (seed 7): its checkpoint is of this configuration"
    cmp "$SCRATCH/full/logbook.csv" "$SCRATCH/results/logbook.csv" || fail "logbook differs after the rerun"
    diff <(stable_result "$SCRATCH/full") <(stable_result "$SCRATCH/results") || fail "result differs after the rerun"
    # finished: run once more, it starts afresh
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "a third run failed"; }
    ! grep -q "resuming" "$SCRATCH/out" || fail "a finished run was resumed"
    # another configuration over the stopped run's directory
    sed -e 's/generations: 120/generations: 40/' -e 's|^farm:|output: {dir: other}\nfarm:|' "$cfg" > "$SCRATCH/term2.yaml"
    (cd "$SCRATCH" && "$EVO" run term2.yaml -n 2 -q) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "the other configuration failed"; }
    expect_in "$SCRATCH/out" "cma-es: not resuming: other/checkpoint was made with another configuration"
    grep -q '"generations": 40,' "$SCRATCH/other/result.json" || fail "the other configuration did not start afresh"
}
