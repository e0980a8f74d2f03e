# test_status.sh — evo-farm status, join and drain against steps and jobs
# from this machine (the "login node"): status by results directory and by
# job id, a Python step listed and shown, a killed step's record forgotten,
# workers joining from another job (--evo-farm-join) and that job drained.

# `evo-farm status DIR` and `status JOBID` from this machine while a step
# runs (status_from_here in lib.sh; the netns run calls it too).
t_status_from_login_node() { status_from_here; }

# A Python driver's farm in a step: listed by `evo-farm status` with no
# argument and shown by its job id from this machine, through the record
# rank 0 keeps in ~/.evo-farm/farms (a shared home on a real cluster).
t_status_of_a_python_step() {
    own_home python-step
    cat > "$SCRATCH/slowpy.py" <<PY
import time
from evofarm import futures
def sq(x):
    time.sleep(0.01)
    return x * x
if __name__ == "__main__":
    end = time.time() + 6
    while time.time() < end:
        assert sum(futures.map(sq, range(20))) == 2470
PY
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm -N2 -n4 /usr/bin/python3 slowpy.py) > "$SCRATCH/out" 2>&1 &
    local srun_pid=$!
    await_record || { wait $srun_pid; tail "$SCRATCH/out"; fail "no farm record"; }
    local rec=$REC
    sleep 2
    local job=${rec%%.*}
    as_user "$EVO" status > "$SCRATCH/list" 2>&1 || { cat "$SCRATCH/list"; fail "status failed"; }
    grep -qE "^$rec +slurm +3 " "$SCRATCH/list" || { cat "$SCRATCH/list"; wait $srun_pid; fail "the step $rec is not listed"; }
    as_user "$EVO" status "$job" > "$SCRATCH/status-job" 2>&1 || { cat "$SCRATCH/status-job"; wait $srun_pid; fail "status $job failed"; }
    as_user "$EVO" status --json "$job" > "$SCRATCH/status-json" 2>&1 || fail "status --json $job failed"
    wait $srun_pid || { tail "$SCRATCH/out"; fail "srun failed"; }
    cat "$SCRATCH/status-job"
    grep -qE "^workers +3: " "$SCRATCH/status-job" || fail "status by job id did not see 3 workers"
    grep -q "node2" "$SCRATCH/status-job" || fail "status did not list node2"
    grep -q "\"kind\": \"slurm\"" "$SCRATCH/status-json" || fail "status --json: $(cat "$SCRATCH/status-json")"
    [ ! -e "$HOME/.evo-farm/farms/$rec" ] || fail "the record outlived the step"
}

# A step killed by a signal leaves its record behind (its processes had no
# chance to remove it): status asks Slurm, which says the step has ended,
# and removes the record at once instead of asking its dead endpoints.
t_status_forgets_a_killed_step() {
    own_home killed-step
    printf 'import time\nfrom evofarm import futures\nwhile True:\n    list(futures.map(abs, range(20)))\n    time.sleep(0.05)\n' \
        > "$SCRATCH/forever.py"
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm -N2 -n3 /usr/bin/python3 forever.py) > "$SCRATCH/out" 2>&1 &
    local srun_pid=$!
    await_record || { kill $srun_pid; tail "$SCRATCH/out"; fail "no farm record"; }
    local rec=$REC
    scancel -s KILL "$rec" || fail "scancel -s KILL $rec refused"
    wait $srun_pid 2> /dev/null || true
    [ -e "$HOME/.evo-farm/farms/$rec" ] || fail "the killed step removed its record (nothing to test)"
    as_user timeout 5 "$EVO" status > "$SCRATCH/list" 2>&1 || { cat "$SCRATCH/list"; fail "status failed or took over 5 s"; }
    cat "$SCRATCH/list"
    ! grep -q "^$rec " "$SCRATCH/list" || fail "the killed step is listed"
    [ ! -e "$HOME/.evo-farm/farms/$rec" ] || fail "status kept the killed step's record"
    [ ! -e "$HOME/.evo-farm/farms/$rec.join" ] || fail "status kept the killed step's join credential"
}

# Workers join a running farm from another job: the
# joining job is cancelled mid-map (its workers leave on SIGTERM, what they
# held is requeued): every result is right and none twice (mapdriver
# verify checks both).
t_join_from_another_job() {
    farm_and_joiner 20000
    sleep 1
    scancel "$JOINER"
    wait $SRUN_PID || { tail "$SCRATCH/farm.out"; fail "the farm failed"; }
    expect_in "$SCRATCH/farm.out" "mapdriver: 20000 results, 0 failed, all as expected"
    grep -E "evaluations done" "$SCRATCH/farm.out" | sed 's/^/    /'
    grep -qE "[1-9][0-9]* requeued" "$SCRATCH/farm.out" || fail "nothing the joined workers held was requeued"
    scontrol show job "$JOINER" | grep -q "JobState=CANCELLED" || fail "the joining job was not cancelled"
    (cd "$SCRATCH" && srun --evo-farm-join=999999 -n1 "$EVO") > "$SCRATCH/out" 2>&1 && fail "joined a farm that does not exist"
    expect_in "$SCRATCH/out" "evo-farm: --evo-farm-join=999999: no running farm 999999 of yours"
}

# evo-farm drain JOBID from this machine: the joining job's workers return
# what they hold and leave, so that job completes by itself, nothing of
# theirs requeued; the farm ends with every result right.
t_drain_a_joining_job() {
    farm_and_joiner 20000
    sleep 1
    as_user "$EVO" drain "$JOINER" > "$SCRATCH/drain.out" 2>&1 || { cat "$SCRATCH/drain.out"; fail "drain failed"; }
    expect_in "$SCRATCH/drain.out" "farm $REC: 2 workers of $JOINER draining"
    wait_job "$JOINER" "$SCRATCH/joiner.out"
    wait $SRUN_PID || { tail "$SCRATCH/farm.out"; fail "the farm failed"; }
    expect_in "$SCRATCH/farm.out" "mapdriver: 20000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/farm.out" "0 requeued from lost workers"
    grep -E "evaluations done" "$SCRATCH/farm.out" | sed 's/^/    /'
    as_user "$EVO" drain "$JOINER" > "$SCRATCH/out" 2>&1 && fail "drained the workers of a farm that has ended"
    expect_in "$SCRATCH/out" "no worker of $JOINER in any running farm of yours"
}
