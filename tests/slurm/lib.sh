# lib.sh — what the Slurm tests share: the integration suite's helpers
# (../integration/lib.sh), the README's example adapted to this build, the
# test cluster's start (tests/slurm/cluster.sh) and its stop at exit, and the
# helpers the test_*.sh files call. Sourced by run-all.sh from tests/slurm.
. ../integration/lib.sh
. ./user.sh
user_make || { echo "run-all.sh: cannot create the job user $TEST_USER"; exit 1; }
user_reach_tree
# The cluster's own folder is root's, outside the user's SCRATCH: munged
# refuses a key, and warns of a log, under a folder another user owns.
CLUSTER=$(mktemp -d /tmp/evo-farm-cluster.XXXXXX) && chmod 755 "$CLUSTER" || exit 1
# The README's example, with this build's library (BUILD may be another
# Slurm's build directory: tests/slurm/versions).
EXAMPLE="$SCRATCH/example/evolution.yaml"
user_dir "$SCRATCH/example"
sed "s|library: .*librastrigin.so|library: $ROOT/$BUILD/examples/librastrigin.so|" \
    "$ROOT/examples/rastrigin/evolution.yaml" > "$EXAMPLE"
grep -q "library: $ROOT/$BUILD/examples/librastrigin.so" "$EXAMPLE" || { echo "run-all.sh: cannot adapt the example"; exit 1; }
export MODULEPATH="$ROOT/tests/slurm/modules"

start_cluster() { # MODE
    ./cluster.sh stop "$CLUSTER" > /dev/null 2>&1
    rm -rf "$CLUSTER"
    ./cluster.sh start "$CLUSTER" "$1" > /dev/null || { cat "$CLUSTER"/log/*.log | tail -20; return 1; }
    export SLURM_CONF="$CLUSTER/etc/slurm.conf"
}
trap './cluster.sh stop "$CLUSTER" > /dev/null 2>&1; rm -rf "$SCRATCH" "$CLUSTER"; user_remove' EXIT

# on_test_overrun NAME — what run_tests adds to the output of a test it
# killed for running too long: the queue, the jobs' states and reasons and
# the ends of the daemons' logs; then the test's jobs are cancelled and the
# next test waits (60 s at most) for both nodes to be idle again.
on_test_overrun() {
    local i
    for i in "$CLUSTER"/log/slurm*.log; do
        echo "--- the end of $i:"
        tail -12 "$i"
    done
    echo "--- the queue, the jobs and the nodes when $1 was killed:"
    squeue -a -t all -o '%.8i %.10u %.11T %.14r %.8M %N' 2>&1
    sinfo -h -N -o '%N %T %E' 2>&1 | sort -u
    scancel -u "$TEST_USER" 2> /dev/null
    nodes_idle 120 || echo "--- the nodes are not idle 60 s after: $(sinfo -h -N -o '%N %T' | paste -sd ' ')"
}

# nodes_idle TRIES — until both nodes are idle (TRIES x 0.5 s at most):
# the previous job has let go of them. 0, or 1 when they are not.
nodes_idle() {
    local i
    for i in $(seq "$1"); do
        [ "$(sinfo -h -N -o '%T' 2> /dev/null | grep -cx idle)" -ge 2 ] && return 0
        sleep 0.5
    done
    return 1
}

# Both nodes must have workers: "N workers connected at the end: node1 A, node2 B".
expect_both_nodes() {
    grep -E "workers? connected at the end: .*node1 [0-9]+" "$1" | grep -qE "node2 [0-9]+" ||
        { tail -5 "$1"; fail "workers not on both nodes"; }
}

# The example (CMA-ES on Rastrigin, seed 1) run on this machine alone: the
# logbook every run under Slurm must reproduce exactly.
local_reference() {
    [ -f "$SCRATCH/local/logbook.csv" ] && return 0
    (cd "$SCRATCH" && as_user "$EVO" run "$EXAMPLE" -n 2 -q > /dev/null 2>&1 && mv results local) || fail "local run failed"
    grep -qE '"fit": [0-9]' "$SCRATCH/local/result.json" || { cat "$SCRATCH/local/result.json"; fail "the local run found no finite fit"; }
}

run_example() { # OUTFILE [srun options]
    local out=$1 rc=0; shift
    local_reference
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm="$EXAMPLE" -N2 -n6 -O "$@" "$EVO") > "$out" 2>&1 || rc=$?
    [ $rc = 0 ] || { tail -20 "$out"; fail "srun exited $rc"; }
    expect_in "$out" "cma-es: best "
    grep -qE "evaluations done, 0 failed" "$out" || { tail -5 "$out"; fail "evaluations failed"; }
    expect_in "$out" "5 workers connected at the end"
    expect_both_nodes "$out"
    cmp "$SCRATCH/local/logbook.csv" "$SCRATCH/results/logbook.csv" || fail "the logbook differs from the local run's"
    grep -q '"cores": 5,' "$SCRATCH/results/result.json" || fail "result.json does not count 5 workers"
    [ "$(stat -c %U "$SCRATCH/results/result.json")" = "$TEST_USER" ] || fail "the job did not run as $TEST_USER"
}

# run_job DIR SCRIPT OUT [ENV=VALUE...] — sbatch SCRIPT from DIR (output to
# OUT) and wait until it has COMPLETED.
run_job() {
    local dir=$1 script=$2 out=$3 job; shift 3
    job=$(cd "$dir" && env "$@" sbatch --parsable -o "$out" "$script") || fail "sbatch $script refused"
    wait_job "$job" "$out"
}

wait_job() { # JOBID [OUT] — until it ends (60 s at most); it must have COMPLETED
    for _ in $(seq 600); do
        scontrol show job "$1" 2> /dev/null | grep -qE "JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT)" && break
        sleep 0.1
    done
    scontrol show job "$1" | grep -q "JobState=COMPLETED" || {
        cat "${2:-$SCRATCH/job.out}"
        scontrol show job "$1" | grep -oE "(JobState|Reason|ExitCode)=[^ ]*" | tr '\n' ' '
        fail "job $1 did not complete"
    }
}

# wires_up_every_way MPI — the example through --mpi=MPI, SLURM_MPI_TYPE
# and MpiDefault, each saying it wires up through MPI.
wires_up_every_way() {
    run_example "$SCRATCH/out" --mpi="$1" -v
    expect_in "$SCRATCH/out" "the farm wires up through $1"
    SLURM_MPI_TYPE=$1 run_example "$SCRATCH/out" -v
    expect_in "$SCRATCH/out" "the farm wires up through $1"
    sed "s/^MpiDefault=.*/MpiDefault=$1/" "$SLURM_CONF" > "$SCRATCH/mpidefault-$1.conf"
    SLURM_CONF="$SCRATCH/mpidefault-$1.conf" run_example "$SCRATCH/out" -v
    expect_in "$SCRATCH/out" "the farm wires up through $1"
}

# `evo-farm status DIR` from this machine (the "login node") while a step
# runs: in netns mode the farm's node is another network namespace, so it
# is reached through the routable endpoint rank 0 left in farm.access.
status_from_here() {
    cat > "$SCRATCH/st.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: slow_rastrigin}
optimize: {strategy: cma-es, dimension: 4, centroid: 3.0, sigma: 2.0, lambda: 20, generations: 150, seed: 3}
YAML
    rm -rf "$SCRATCH/results"
    own_home status-from-here # where the driver records the job (~/.evo-farm/jobs/JOBID)
    (cd "$SCRATCH" && timeout -k 10 120 srun -J status-from-here --evo-farm=st.yaml -N2 -n4 "$EVO") > "$SCRATCH/out" 2>&1 &
    local srun_pid=$!
    for _ in $(seq 300); do [ -f "$SCRATCH/results/progress.json" ] && break; sleep 0.02; done
    as_user "$EVO" status "$SCRATCH/results" > "$SCRATCH/status" 2>&1 || { cat "$SCRATCH/status"; wait $srun_pid; fail "status failed"; }
    local job; job=$(job_named status-from-here)
    as_user "$EVO" status "$job" > "$SCRATCH/status-job" 2>&1 || { cat "$SCRATCH/status-job"; wait $srun_pid; fail "status $job failed"; }
    wait $srun_pid || { tail "$SCRATCH/out"; fail "srun failed"; }
    grep -qE "^workers +3: " "$SCRATCH/status-job" || fail "status by job id did not see 3 workers"
    [ "$(stat -c %a "$HOME/.evo-farm/jobs/$job")" = 600 ] || fail "the job record is not private"
    cat "$SCRATCH/status"
    grep -qE "^workers +3: " "$SCRATCH/status" || fail "status did not see 3 workers"
    grep -q "node2" "$SCRATCH/status" || fail "status did not list node2"
    grep -qE "^generation +[0-9]+ of 150$" "$SCRATCH/status" || fail "no generation"
}

# farm_and_joiner N — a farm of srun -N1 -n3 -O on node1 mapping N slow
# vectors in the background (SRUN_PID; its record REC), and a second job on
# node2, an #SBATCH --evo-farm-join=JOBID script whose srun runs evo-farm,
# two tasks (JOINER), once status counts its workers (shown in
# $SCRATCH/status).
farm_and_joiner() {
    own_home "${FUNCNAME[1]}" # the calling test's
    local cfg; cfg=$(lib_config sj slow_sphere)
    printf 'environment: {env: {EVO_JOINED_MARK: "from the farm"}}\n' >> "$cfg"
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm="$cfg" -N1 -n3 -O -w node1 "$EVO" "$DRIVER" verify sphere "$1" 3) \
        > "$SCRATCH/farm.out" 2>&1 &
    SRUN_PID=$!
    await_record || { wait $SRUN_PID; tail "$SCRATCH/farm.out"; fail "no farm record"; }
    cat > "$SCRATCH/joiner.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm-join=${REC%%.*}
#SBATCH -N1 -n2 -w node2
srun "$EVO"
JOB
    JOINER=$(cd "$SCRATCH" && sbatch --parsable -o "$SCRATCH/joiner.out" joiner.sh) || fail "sbatch refused the joiner"
    local joined=0
    wait_workers "$REC" 4 150 && joined=1
    as_user "$EVO" status "$REC" > "$SCRATCH/status" 2>&1 || true
    [ $joined = 1 ] || { cat "$SCRATCH/status" "$SCRATCH/joiner.out"; fail "status saw ${WORKERS:-no} workers after the join"; }
    cat "$SCRATCH/status"
    grep -q "node2 2" "$SCRATCH/status" || fail "status does not show node2's 2 workers"
    # The joining job's tasks got the farm's environment and its worker key
    # (not the driver's: the farm's rank 0 has it alone).
    local p tasks=0 worker_public
    worker_public=$(sed -n 's/^public //p' "$HOME/.evo-farm/farms/$REC.join")
    for p in $(./cluster.sh pids "$CLUSTER" '^[^ ]*evo-farm( |$)'); do # the tasks, not their evaluators (evo-farm __evaluate-library)
        tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null | grep -q __evaluate && continue
        tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -q "^EVO_FARM_JOIN=" || continue
        tr '\0' '\n' < "/proc/$p/environ" | grep -qxF "SLURM_JOB_ID=$JOINER" || continue
        tr '\0' '\n' < "/proc/$p/environ" | grep -qxF "EVO_JOINED_MARK=from the farm" ||
            fail "a joined task lacks the farm's environment.env"
        tr '\0' '\n' < "/proc/$p/environ" | grep -qxF "EVO_FARM_CLIENT_PUBLIC=$worker_public" ||
            fail "a joined task does not hold the farm's worker key"
        tasks=$((tasks + 1))
    done
    [ $tasks = 2 ] || fail "found $tasks joined tasks, not 2"
}

# expect_refused NAME TEXT SRUN-ARGS... — the step fails with one clear
# "evo-farm:" line containing TEXT, and nothing of it ran.
expect_refused() {
    local name=$1 text=$2; shift 2
    rm -f "$SCRATCH/ran"
    (cd "$SCRATCH" && timeout -k 10 60 srun "$@" sh -c "touch $SCRATCH/ran") > "$SCRATCH/$name.out" 2>&1 &&
        { cat "$SCRATCH/$name.out"; fail "$name: accepted"; }
    grep -F -- "$text" "$SCRATCH/$name.out" | grep -q "evo-farm: " ||
        { cat "$SCRATCH/$name.out"; fail "$name: no line saying '$text'"; }
    [ ! -e "$SCRATCH/ran" ] || fail "$name: the command ran"
}

# The PIDs of the step's tasks running "evo-farm mapdriver ..." (every task
# has the step's command line; rank 0 runs it) whose environment has a
# line matching REGEX.
worker_tasks() {
    local p
    for p in $(./cluster.sh pids "$CLUSTER" "^$EVO $DRIVER "); do
        grep -qz "$1" "/proc/$p/environ" 2> /dev/null && echo "$p"
    done
    return 0
}

# job_named NAME — the id of the running job named NAME (srun -J NAME):
# never another job a test before left ending in the queue.
job_named() { squeue -h -n "$1" -o %i | head -1; }

# own_home NAME — HOME for this test alone ($SCRATCH/home-NAME, the job
# user's): a farm record another test left (a step it killed) is never
# taken for this test's by first_record.
own_home() {
    export HOME="$SCRATCH/home-$1"
    user_dir "$HOME"
}

# await_record — REC: the first farm record (first_record), waited for
# 10 s at most (a step of a fresh cluster may take seconds to start);
# returns 1 if none came.
await_record() {
    REC=""
    for _ in $(seq 200); do REC=$(first_record); [ -n "$REC" ] && return 0; sleep 0.05; done
    return 1
}

# await_workers N — await_record, then wait_workers REC N (20 s at most):
# the step's N workers connected, so each holds tasks while work remains;
# says what status saw and returns 1 otherwise.
await_workers() {
    await_record && wait_workers "$REC" "$1" 200 && return 0
    echo "    status saw ${WORKERS:-no} workers in ${REC:-no record}, not $1"
    return 1
}

# first_record — the name of the first farm record in ~/.evo-farm/farms:
# not a join credential, nor a record being written (NAME.tmp.RANDOM,
# which is renamed into place when whole), nor a dot file; empty if none.
first_record() {
    ls "$HOME/.evo-farm/farms" 2> /dev/null | grep -v -e '\.join$' -e '\.tmp\.' -e '^\.' | head -1
}
