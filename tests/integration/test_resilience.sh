# test_resilience.sh — kill -9 of workers and of evaluator children at
# random moments in the middle of a 10,000-task map: the map completes,
# every result is right and none is duplicated.

# kill_loop RUNPID PATTERN COUNT — kills COUNT random processes matching
# PATTERN below RUNPID, at random moments; prints how many it killed.
kill_loop() {
    local runpid=$1 pattern=$2 count=$3 killed=0 victims pid
    while [ $killed -lt "$count" ] && kill -0 "$runpid" 2>/dev/null; do
        sleep "0.$((RANDOM % 3 + 1))$((RANDOM % 10))"
        victims=$(own_pids "$pattern" | while read -r p; do
            # only descendants of this farm
            q=$p; while [ "$q" -gt 1 ] && [ "$q" != "$runpid" ]; do q=$(ps -o ppid= -p "$q" | tr -d ' '); [ -n "$q" ] || q=1; done
            [ "$q" = "$runpid" ] && echo "$p"
        done)
        pid=$(echo "$victims" | shuf -n 1)
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    done
    echo "$killed"
}

resilience_run() { # CONFIG PATTERN
    "$EVO" run "$1" -n 3 -- "$DRIVER" verify sphere 10000 5 > "$SCRATCH/out" 2>&1 &
    local runpid=$!
    local killed; killed=$(kill_loop "$runpid" "$2" 20)
    wait "$runpid" || fail "farm exited with $? after $killed kills"
    [ "$killed" -ge 20 ] || fail "only $killed kills landed before the map ended (make the map longer)"
    expect_in "$SCRATCH/out" "mapdriver: 10000 results, 0 failed, all as expected"
    grep -F "evo-farm: 10000 evaluations done" "$SCRATCH/out" | sed 's/^/    /'
}

t_kill_workers_mid_map() {
    local cfg; cfg=$(lib_config kw slow_sphere "retries: 2")
    resilience_run "$cfg" "__worker $cfg" || return 1
    expect_in "$SCRATCH/out" "restarting it"
    grep -q "evaluations done, 0 failed, [0-9]* retried, [1-9][0-9]* requeued" "$SCRATCH/out" ||
        fail "no task was requeued"
}

t_kill_evaluators_mid_map() {
    # Each kill costs the candidate being evaluated one attempt; generous
    # retries keep a candidate hit by two kills from failing.
    local cfg; cfg=$(lib_config ke slow_sphere "retries: 5")
    resilience_run "$cfg" "__evaluate-library $TESTLIB slow_sphere" || return 1
    grep -q "evaluations done, 0 failed, [0-9]* retried, 0 requeued" "$SCRATCH/out" ||
        fail "workers were lost, expected only evaluators to die"
}

# Every worker gone for good (they die right after each restart: their
# configuration file vanished), while the driver's map waits: each waiting
# evaluation fails with the reason, the driver ends, nothing hangs.
t_no_worker_left_fails_the_waiting_work() {
    local cfg; cfg=$(lib_config nw slow_sphere)
    cp "$cfg" "$SCRATCH/nw-kept.yaml"
    timeout 60 "$EVO" run "$cfg" -n 2 -- "$DRIVER" verify sphere 20000 3 > "$SCRATCH/out" 2>&1 &
    local runpid=$! start; start=$(date +%s)
    sleep 1
    rm -f "$cfg" # restarted workers cannot load it: they exit at once
    for _ in $(seq 40); do
        kill -9 $(own_pids "__worker $cfg") 2> /dev/null || true
        grep -q "not restarting" "$SCRATCH/out" && break
        sleep 0.1
    done
    local rc=0
    wait "$runpid" || rc=$?
    [ $rc != 124 ] || { tail "$SCRATCH/out"; fail "the farm hung with no worker left"; }
    [ $rc != 0 ] || fail "the driver reported success with evaluations lost"
    expect_in "$SCRATCH/out" "not restarting worker"
    expect_in "$SCRATCH/out" "failed after 0 attempts: no worker left: the workers kept dying right after they started"
    grep -qE "mapdriver: 20000 results, [1-9][0-9]* failed" "$SCRATCH/out" || { tail "$SCRATCH/out"; fail "not every evaluation answered"; }
    [ $(( $(date +%s) - start )) -lt 30 ] || fail "took too long to give up"
}

# A library evaluator's NAME_finalize runs when its child ends normally
# (the worker stops at the end of the farm): once per evaluator child.
t_library_finalize_called() {
    local cfg; cfg=$(lib_config fin finalized_sphere)
    rm -f "$SCRATCH/finalized"
    EVO_TEST_FINALIZED="$SCRATCH/finalized" "$EVO" run "$cfg" -n 2 -- "$DRIVER" verify sphere 500 3 > "$SCRATCH/out" 2>&1 ||
        { cat "$SCRATCH/out"; fail "the farm failed"; }
    expect_in "$SCRATCH/out" "mapdriver: 500 results, 0 failed, all as expected"
    [ -f "$SCRATCH/finalized" ] || fail "NAME_finalize was never called"
    [ "$(wc -l < "$SCRATCH/finalized")" = 2 ] || { cat "$SCRATCH/finalized"; fail "not once per evaluator child"; }
}

# An evaluator that dies leaving a process of its own behind: the process
# goes with it (its process group is killed even after it has ended).
t_crashed_evaluator_leaves_nothing() {
    cat > "$SCRATCH/leave.yaml" <<YAML
farm: {heartbeat: 200ms, retries: 1, timeout: 5s}
evaluate: {command: [sh, -c, 'sleep 987 & read x; exit 3'], startup_timeout: 2s}
YAML
    "$EVO" run "$SCRATCH/leave.yaml" -n 2 -- "$DRIVER" failures sphere 4 3 "exited with status 3" > "$SCRATCH/out" 2>&1 || true
    expect_in "$SCRATCH/out" "evaluator exited with status 3"
    sleep 0.2
    local left; left=$(own_pids "^sleep 987")
    [ -z "$left" ] || { ps -o pid,args -p $left; kill $left; fail "a crashed evaluator's process was left running"; }
}

# The worker ignores SIGPIPE (a dead evaluator must not kill it); its
# evaluators start with the default disposition, as any program expects
# (an ignored signal stays ignored across exec).
t_evaluator_starts_with_default_sigpipe() {
    cat > "$SCRATCH/sigign.sh" <<'SH'
mask=$(awk '/^SigIgn/ {print $2}' /proc/$$/status)
while read -r line; do echo $(( (0x$mask >> 12) & 1 )); done
SH
    cat > "$SCRATCH/sigpipe.yaml" <<YAML
farm: {heartbeat: 200ms, timeout: 5s}
evaluate: {command: [sh, $SCRATCH/sigign.sh], startup_timeout: 2s}
YAML
    "$EVO" run "$SCRATCH/sigpipe.yaml" -n 1 -- "$DRIVER" constant 20 2 0 > "$SCRATCH/out" 2>&1 ||
        { cat "$SCRATCH/out"; fail "the evaluator saw SIGPIPE ignored"; }
}

# The broker killed -9 under a map: two workers that joined from outside
# over ZeroMQ (as a step's workers on other nodes do; the farm's own
# children die with it) each exit with a message within heartbeat x
# liveness (200 ms x 3 here) instead of retrying for EVO_FARM_GIVE_UP.
t_broker_killed_remote_workers_exit() {
    local cfg; cfg=$(lib_config bk slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify slow_sphere 100000 3 > "$SCRATCH/out" 2>&1 &
    local runpid=$! i
    wait_join_credential $runpid
    local workers=""
    for i in 1 2; do # over ZeroMQ with the farm's worker key, as from another machine
        setsid "$EVO" join "$JOIN" > "$SCRATCH/worker$i" 2>&1 &
        workers="$workers $!"
    done
    sleep 1.5
    for i in 1 2; do kill -0 "$(echo $workers | cut -d" " -f$i)" || { cat "$SCRATCH/worker$i"; fail "worker $i did not keep running"; }; done
    kill -9 "$runpid"
    local start; start=$(date +%s%N) alive=1
    for i in $(seq 100); do
        alive=0
        for p in $workers; do kill -0 "$p" 2> /dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.05
    done
    local ms=$((($(date +%s%N) - start) / 1000000))
    [ $alive -eq 0 ] || { kill $workers; fail "workers still running 5 s after the broker was killed"; }
    echo "    both outside workers gone ${ms} ms after the broker was killed"
    for i in 1 2; do expect_in "$SCRATCH/worker$i" "has been silent for"; done
    [ "$ms" -lt 2000 ] || fail "the workers took ${ms} ms to go (heartbeat x liveness is 600 ms)"
}

# A worker that was not running for a while (stopped, or its node busy)
# heard nothing in that time because it did not look: on waking it reads
# what waited for it before it judges the broker's silence, and so stays
# with a live broker instead of leaving. Stopped 2 s three times here,
# with a window of 200 ms x 3.
t_worker_stopped_a_while_rejoins_a_live_broker() {
    local cfg; cfg=$(lib_config stop slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify slow_sphere 100000 3 > "$SCRATCH/out" 2>&1 &
    local runpid=$! i
    wait_join_credential $runpid
    setsid "$EVO" join "$JOIN" > "$SCRATCH/worker" 2>&1 & # over ZeroMQ, as from another node
    local worker=$!
    sleep 1
    for i in 1 2 3; do
        kill -STOP -- "-$worker" # the join and its worker process
        sleep 2
        kill -CONT -- "-$worker"
        sleep 1
        kill -0 "$worker" 2> /dev/null || { kill -9 "$runpid"; cat "$SCRATCH/worker"; fail "the worker left after being stopped (round $i)"; }
    done
    kill -9 -- "$runpid" "-$worker" 2> /dev/null || true
    wait "$runpid" 2> /dev/null || true
    sed 's/^/    worker: /' "$SCRATCH/worker"
    ! grep -F "has been silent for" "$SCRATCH/worker" || fail "the worker took a live broker for gone"
}
