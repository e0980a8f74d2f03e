# test_kills.sh — tasks and nodes lost mid-run under --no-kill: one worker
# task killed (its work requeued), every worker task killed (the waiting
# evaluations fail after EVO_FARM_GIVE_UP and the step ends), a whole node
# killed (the other node finishes the farm; the node is brought back).

# A worker task killed -9 mid-run under --no-kill: every result still comes,
# and what it held is requeued. It is killed once `evo-farm status` counts
# all five workers (so it holds tasks: a 1 ms evaluator's worker always
# does while work remains), not at a fixed delay after its process shows,
# which on a loaded machine may end before it connected or after the map
# was done: nothing was requeued once on CI (Slurm 24.11).
t_kill_worker_task_no_kill() {
    own_home kill-worker # the record status reads
    printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: sleep_1ms}\n' "$TESTLIB" > "$SCRATCH/slow.yaml"
    (cd "$SCRATCH" && timeout -k 10 120 srun --no-kill --evo-farm=slow.yaml -N2 -n6 -O "$EVO" "$DRIVER" verify sphere 20000 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! victim=""
    await_workers 5 || { wait $srun_pid; tail "$SCRATCH/out"; fail "not every worker connected"; }
    victim=$(worker_tasks '^SLURM_PROCID=3$' | head -1)
    [ -n "$victim" ] || fail "no worker task found"
    kill -9 "$victim"
    wait $srun_pid || true
    expect_in "$SCRATCH/out" "20000 results, 0 failed, all as expected"
    grep -qE "[1-9][0-9]* requeued from lost workers" "$SCRATCH/out" || { tail "$SCRATCH/out"; fail "nothing was requeued"; }
}

# Every worker task of a step lost (kill -9 under --no-kill) while rank 0's
# map waits: after EVO_FARM_GIVE_UP seconds without a worker the waiting
# evaluations fail with the reason and the step ends, instead of hanging.
# Under PMIx too: Slurm's mpi/pmix plugin kills the whole step when a task
# that has not left PMIx dies, so the workers leave it after the wire-up
# (step.c); before they did, this test failed every time. The workers are
# killed once status counts both, so after they left PMIx.
t_all_worker_tasks_lost() {
    own_home all-lost # the record status reads
    printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: sleep_1ms}\n' "$TESTLIB" > "$SCRATCH/slow.yaml"
    (cd "$SCRATCH" && EVO_FARM_GIVE_UP=2 timeout -k 10 60 srun --no-kill --evo-farm=slow.yaml -N2 -n3 "$EVO" "$DRIVER" verify sphere 100000 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! victims=""
    await_workers 2 || { kill $srun_pid; tail "$SCRATCH/out"; fail "not every worker connected"; }
    victims="$(worker_tasks '^SLURM_PROCID=1$') $(worker_tasks '^SLURM_PROCID=2$')"
    [ "$(echo $victims | wc -w)" = 2 ] || fail "no 2 worker tasks found"
    kill -9 $victims
    local rc=0
    wait $srun_pid || rc=$?
    [ "$rc" != 124 ] || { tail "$SCRATCH/out"; fail "the step hung with no worker left"; }
    expect_in "$SCRATCH/out" "no worker has been connected for 2 s"
    grep -qE "mapdriver: 100000 results, [1-9][0-9]* failed" "$SCRATCH/out" || { tail "$SCRATCH/out"; fail "not every evaluation answered"; }
}

# A whole node lost mid-run under --no-kill (its slurmd, slurmstepd and
# tasks killed -9): the farm on the other node finishes every task. Runs
# last (run-all.sh's TEST_ORDER) and brings the node back.
t_kill_whole_node_no_kill() {
    own_home kill-node # the record status reads
    printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: sleep_1ms}\n' "$TESTLIB" > "$SCRATCH/slow.yaml"
    local start
    start=$(date +%s%N)
    (cd "$SCRATCH" && timeout -k 10 120 srun --no-kill --evo-farm=slow.yaml -N2 -n6 -O "$EVO" "$DRIVER" verify sphere 24000 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! seen=""
    await_workers 5 || { wait $srun_pid; tail "$SCRATCH/out"; fail "not every worker connected"; }
    seen=$(worker_tasks '^SLURMD_NODENAME=node2$')
    [ "$(echo $seen | wc -w)" = 3 ] || fail "no 3 worker tasks on node2"
    ./cluster.sh kill-node "$CLUSTER" 2
    local rc=0
    wait $srun_pid || rc=$?
    echo "    srun exited $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms"
    ./cluster.sh start-node "$CLUSTER" 2 > /dev/null
    expect_in "$SCRATCH/out" "24000 results, 0 failed, all as expected"
    grep -qE "[1-9][0-9]* requeued from lost workers" "$SCRATCH/out" || { cat "$SCRATCH/out"; fail "no task was requeued from node2"; }
    expect_in "$SCRATCH/out" "workers connected at the end: node1"
    grep -q "node2" <(grep "connected at the end" "$SCRATCH/out") && fail "node2 workers still counted"
    cat "$SCRATCH/out"
}

# What --signal=SIG@T and `scancel -s SIG` send to every process of a
# step (USR1, USR2, HUP, ALRM): the Python driver on rank 0 gets each and
# runs its handler, and no task of the farm dies of them: the step ends
# with the driver, 0, every result right.
t_scancel_signals_reach_the_driver() {
    printf 'farm: {heartbeat: 200ms}\nevaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/sig.yaml"
    rm -f "$SCRATCH/mapping"
    (cd "$SCRATCH" && PYTHONPATH="$ROOT/python" timeout -k 10 120 srun -J signals --evo-farm=sig.yaml -N2 -n3 /usr/bin/python3 \
        "$ROOT/tests/integration/signals.py" "$SCRATCH/mapping") > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! sig job rc=0
    for _ in $(seq 600); do [ -s "$SCRATCH/mapping" ] && break; sleep 0.05; done
    job=$(job_named signals)
    [ -s "$SCRATCH/mapping" ] && [ -n "$job" ] || { wait $srun_pid; tail "$SCRATCH/out"; fail "the driver never mapped"; }
    for sig in USR1 USR2 HUP ALRM; do
        scancel -s "$sig" "$job" || fail "scancel -s $sig $job refused"
        sleep 0.5
    done
    wait $srun_pid || rc=$?
    [ $rc = 0 ] || { tail -20 "$SCRATCH/out"; fail "srun exited $rc"; }
    expect_in "$SCRATCH/out" "signals ok: SIGHUP SIGUSR1 SIGUSR2 SIGALRM"
    expect_in "$SCRATCH/out" "2 workers connected at the end"
}
