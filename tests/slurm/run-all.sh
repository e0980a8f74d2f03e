#!/usr/bin/env bash
# run-all.sh — end-to-end tests against a real two-node Slurm that this
# script starts (tests/slurm/cluster.sh) and stops again: the SPANK plugin,
# PMIx wire-up, farms spread over both nodes, environments, failures.
# Needs root and Debian's slurm-wlm, munge, libpmix (scripts/install-deps).
set -u
cd "$(dirname "$0")"
. ../integration/lib.sh
CLUSTER="$SCRATCH/cluster"
# The README's example, with this build's library (BUILD may be another
# Slurm's build directory: tests/slurm/versions).
EXAMPLE="$SCRATCH/example/evolution.yaml"
mkdir -p "$SCRATCH/example"
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
trap './cluster.sh stop "$CLUSTER" > /dev/null 2>&1; rm -rf "$SCRATCH"' EXIT

# Both nodes must have workers: "N workers connected at the end: node1 A, node2 B".
expect_both_nodes() {
    grep -E "workers? connected at the end: .*node1 [0-9]+" "$1" | grep -qE "node2 [0-9]+" ||
        { tail -5 "$1"; fail "workers not on both nodes"; }
}

# The example (CMA-ES on Rastrigin, seed 1) run on this machine alone: the
# logbook every run under Slurm must reproduce exactly.
local_reference() {
    [ -f "$SCRATCH/local/logbook.csv" ] && return 0
    (cd "$SCRATCH" && "$EVO" run "$EXAMPLE" -n 2 -q > /dev/null 2>&1 && mv results local) || fail "local run failed"
    grep -qE '"fit": [0-9]' "$SCRATCH/local/result.json" || { cat "$SCRATCH/local/result.json"; fail "the local run found no finite fit"; }
}

run_example() { # OUTFILE [srun options]
    local out=$1 rc=0; shift
    local_reference
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && timeout 120 srun --evo-farm="$EXAMPLE" -N2 -n6 "$@" "$EVO") > "$out" 2>&1 || rc=$?
    [ $rc = 0 ] || { tail -20 "$out"; fail "srun exited $rc"; }
    expect_in "$out" "cma-es: best "
    grep -qE "evaluations done, 0 failed" "$out" || { tail -5 "$out"; fail "evaluations failed"; }
    expect_in "$out" "5 workers connected at the end"
    expect_both_nodes "$out"
    cmp "$SCRATCH/local/logbook.csv" "$SCRATCH/results/logbook.csv" || fail "the logbook differs from the local run's"
    grep -q '"cores": 5,' "$SCRATCH/results/result.json" || fail "result.json does not count 5 workers"
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
    scontrol show job "$1" | grep -q "JobState=COMPLETED" || { cat "${2:-$SCRATCH/job.out}"; fail "job $1 did not complete"; }
}

# MpiDefault is none: the plugin asks srun for a wire-up itself (-v says
# which): PMIx where this Slurm has it, else PMI-2 (Debian's 26.05).
t_srun_example_two_nodes() {
    run_example "$SCRATCH/out" -v
    expect_in "$SCRATCH/out" "srun: evo-farm: the farm wires up through $AUTO_MPI"
}

# Every way of choosing the wire-up that a user or a site has: --mpi=,
# SLURM_MPI_TYPE and MpiDefault in slurm.conf, each as pmix (where this
# Slurm has it; else srun itself says so in one line) and as pmi2.
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

t_srun_example_every_mpi_choice() {
    if [ "$AUTO_MPI" = pmix ]; then
        wires_up_every_way pmix
    else
        (cd "$SCRATCH" && srun --mpi=pmix --evo-farm="$EXAMPLE" -n2 "$EVO") > "$SCRATCH/out" 2>&1 && fail "pmix accepted"
        grep -q "Invalid MPI type 'pmix'\|Cannot create context for mpi/pmix" "$SCRATCH/out" ||
            { cat "$SCRATCH/out"; fail "no one line saying this Slurm has no PMIx"; }
    fi
    wires_up_every_way pmi2
}

# The literal command line of the README: no --mpi, no evo-farm in front.
t_literal_command_two_nodes() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/evolution.yaml"
    mkdir -p "$SCRATCH/literal"
    (cd "$SCRATCH/literal" && timeout 120 srun --evo-farm=../evolution.yaml -N2 -n6 /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 5) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "5 workers connected at the end"
    expect_both_nodes "$SCRATCH/out"
    [ "$(grep -c "best fitness" "$SCRATCH/out")" = 1 ] || fail "the driver did not run exactly once"
    # evo-farm given explicitly is not wrapped twice
    (cd "$SCRATCH/literal" && timeout 120 srun --evo-farm=../evolution.yaml -N2 -n3 "$EVO" /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 2) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "2 workers connected at the end"
}

# No file at all: a bare --evo-farm is a farm of every default whose
# workers run the Python driver's interpreter (also as #SBATCH --evo-farm);
# the same from a file without evaluate:; and a driver that is not Python
# gets one line saying what is missing.
t_no_file_python_driver() {
    mkdir -p "$SCRATCH/bare" "$SCRATCH/bare-ref"
    (cd "$SCRATCH/bare" && timeout 120 srun --evo-farm -N2 -n4 /usr/bin/python3 "$ROOT/examples/deap/evolution.py" 5 \
        --seed 5 --ngen 10) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun --evo-farm failed"; }
    expect_in "$SCRATCH/out" "3 workers connected at the end"
    expect_both_nodes "$SCRATCH/out"
    (cd "$SCRATCH/bare-ref" && PYTHONPATH="$ROOT/python" /usr/bin/python3 "$ROOT/examples/deap/evolution.py" 5 --seed 5 \
        --ngen 10 --builtin-map > /dev/null 2>&1) || fail "reference run failed"
    cmp "$SCRATCH/bare/logbook_c5.txt" "$SCRATCH/bare-ref/logbook_c5.txt" || fail "logbook differs from the builtin map's"
    cat > "$SCRATCH/bare.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm
#SBATCH -N2 -n4
srun /usr/bin/python3 $ROOT/examples/deap/evolution.py 5 --seed 5 --ngen 3
JOB
    run_job "$SCRATCH/bare" ../bare.sh "$SCRATCH/bare.out"
    expect_in "$SCRATCH/bare.out" "3 workers connected at the end"
    printf 'farm: {heartbeat: 200ms}\n' > "$SCRATCH/noeval.yaml"
    (cd "$SCRATCH/bare" && timeout 120 srun --evo-farm=../noeval.yaml -N2 -n3 /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 2) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "no evaluate: failed"; }
    expect_in "$SCRATCH/out" "2 workers connected at the end"
    (cd "$SCRATCH" && timeout 60 srun --evo-farm=noeval.yaml -N1 -n2 /bin/true) > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "has no evaluate: section: say how the workers evaluate"
}

# --export=NONE on srun, and on sbatch (#SBATCH --export=NONE reaching the
# job's plain srun): the farm's variables travel as SLURM_ ones, and the
# task sees them under their EVO_FARM_ names only.
t_export_none() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/evolution.yaml"
    mkdir -p "$SCRATCH/none"
    (cd "$SCRATCH/none" && timeout 120 srun --export=NONE --evo-farm=../evolution.yaml -N2 -n4 /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 2) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun --export=NONE failed"; }
    expect_in "$SCRATCH/out" "3 workers connected at the end"
    (cd "$SCRATCH" && timeout 60 srun --export=NONE --evo-farm=evolution.yaml -N1 -n2 /usr/bin/env) > "$SCRATCH/env" 2>&1 ||
        { cat "$SCRATCH/env"; fail "srun env failed"; }
    grep -q "^EVO_FARM_CLIENT_SECRET=" "$SCRATCH/env" || fail "the driver has no key of its own"
    grep -q "^SLURM_EVO_FARM_" "$SCRATCH/env" && fail "the SLURM_EVO_FARM_ carriers reached the task"
    cat > "$SCRATCH/job.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/evolution.yaml
#SBATCH --export=NONE
#SBATCH -N2 -n4
srun /usr/bin/python3 $ROOT/examples/deap/evolution.py 5 --seed 5 --ngen 2
JOB
    run_job "$SCRATCH/none" ../job.sh "$SCRATCH/job.out"
    expect_in "$SCRATCH/job.out" "3 workers connected at the end"
    # the same through SBATCH_EXPORT=NONE, the script saying nothing of it
    sed -i '/--export=NONE/d' "$SCRATCH/job.sh"
    run_job "$SCRATCH/none" ../job.sh "$SCRATCH/job2.out" SBATCH_EXPORT=NONE
    expect_in "$SCRATCH/job2.out" "3 workers connected at the end"
}

t_sbatch_example() {
    cat > "$SCRATCH/job.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$EXAMPLE
#SBATCH -N2 -n6
srun "$EVO"
JOB
    local_reference
    rm -rf "$SCRATCH/results"
    run_job "$SCRATCH" job.sh "$SCRATCH/job.out"
    expect_in "$SCRATCH/job.out" "cma-es: best "
    expect_in "$SCRATCH/job.out" "evaluations done, 0 failed"
    expect_both_nodes "$SCRATCH/job.out"
    cmp "$SCRATCH/local/logbook.csv" "$SCRATCH/results/logbook.csv" || fail "the logbook differs from the local run's"
}

t_bad_yaml_refused_before_launch() {
    printf 'evaluate: {command: [x]}\nfarm:\n  retries: lots\n' > "$SCRATCH/bad.yaml"
    rm -f "$SCRATCH/ran"
    (cd "$SCRATCH" && srun --evo-farm=bad.yaml -n2 touch "$SCRATCH/ran") > "$SCRATCH/out" 2>&1 &&
        fail "srun accepted a bad file"
    expect_in "$SCRATCH/out" "evo-farm: bad.yaml:3:12: farm.retries: expected a whole number from 0 to 100, got 'lots'"
    (cd "$SCRATCH" && sbatch --evo-farm=bad.yaml --wrap "touch $SCRATCH/ran") > "$SCRATCH/out" 2>&1 &&
        fail "sbatch accepted a bad file"
    expect_in "$SCRATCH/out" "sbatch: error: evo-farm: bad.yaml:3:12:"
    grep -q "Submitted batch job" "$SCRATCH/out" && fail "a job was submitted"
    sleep 0.5
    [ ! -e "$SCRATCH/ran" ] || fail "something ran"
}

# A step that is over before its workers have connected (the driver is
# `true`; 32 tasks on 16 CPUs): the latecomers are told BYE and exit at
# once, instead of waiting a minute for a broker that is gone and failing.
t_short_step_many_tasks_ends() {
    local rc=0
    (cd "$SCRATCH" && timeout 30 srun --evo-farm="$EXAMPLE" -N2 -n32 -O "$EVO" true) > "$SCRATCH/out" 2>&1 || rc=$?
    [ $rc = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
    grep -q "never joined\|giving up" "$SCRATCH/out" && { cat "$SCRATCH/out"; fail "a worker was left behind"; }
    return 0
}

t_option_in_help() {
    local cmd
    for cmd in srun sbatch salloc; do
        $cmd --help > "$SCRATCH/help" 2>&1 || true
        # on one line, not wrapped
        grep -qE -- "--evo-farm=FILE +Run as an evo-farm task farm \(described by FILE\)$" "$SCRATCH/help" ||
            { grep -A1 -- --evo-farm "$SCRATCH/help"; fail "$cmd --help: no one-line --evo-farm"; }
    done
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
    export HOME="$SCRATCH/home" # where the driver records the job (~/.evo-farm/jobs/JOBID)
    mkdir -p "$HOME"
    (cd "$SCRATCH" && timeout 120 srun --evo-farm=st.yaml -N2 -n4 "$EVO") > "$SCRATCH/out" 2>&1 &
    local srun_pid=$!
    for _ in $(seq 300); do [ -f "$SCRATCH/results/progress.json" ] && break; sleep 0.02; done
    "$EVO" status "$SCRATCH/results" > "$SCRATCH/status" 2>&1 || { cat "$SCRATCH/status"; wait $srun_pid; fail "status failed"; }
    local job; job=$(squeue -h -o %i | head -1)
    "$EVO" status "$job" > "$SCRATCH/status-job" 2>&1 || { cat "$SCRATCH/status-job"; wait $srun_pid; fail "status $job failed"; }
    wait $srun_pid || { tail "$SCRATCH/out"; fail "srun failed"; }
    grep -qE "^workers +3: " "$SCRATCH/status-job" || fail "status by job id did not see 3 workers"
    [ "$(stat -c %a "$HOME/.evo-farm/jobs/$job")" = 600 ] || fail "the job record is not private"
    cat "$SCRATCH/status"
    grep -qE "^workers +3: " "$SCRATCH/status" || fail "status did not see 3 workers"
    grep -q "node2" "$SCRATCH/status" || fail "status did not list node2"
    grep -qE "^generation +[0-9]+ of 150$" "$SCRATCH/status" || fail "no generation"
}
t_status_from_login_node() { status_from_here; }

# A Python driver's farm in a step: listed by `evo-farm status` with no
# argument and shown by its job id from this machine, through the record
# rank 0 keeps in ~/.evo-farm/farms (a shared home on a real cluster).
t_status_of_a_python_step() {
    export HOME="$SCRATCH/home"
    mkdir -p "$HOME"
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
    (cd "$SCRATCH" && timeout 120 srun --evo-farm -N2 -n4 /usr/bin/python3 slowpy.py) > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! rec=""
    for _ in $(seq 200); do rec=$(ls "$HOME/.evo-farm/farms" 2> /dev/null | head -1); [ -n "$rec" ] && break; sleep 0.05; done
    [ -n "$rec" ] || { wait $srun_pid; tail "$SCRATCH/out"; fail "no farm record"; }
    sleep 2
    local job=${rec%%.*}
    "$EVO" status > "$SCRATCH/list" 2>&1 || { cat "$SCRATCH/list"; fail "status failed"; }
    grep -qE "^$rec +slurm +3 " "$SCRATCH/list" || { cat "$SCRATCH/list"; wait $srun_pid; fail "the step is not listed"; }
    "$EVO" status "$job" > "$SCRATCH/status-job" 2>&1 || { cat "$SCRATCH/status-job"; wait $srun_pid; fail "status $job failed"; }
    "$EVO" status --json "$job" > "$SCRATCH/status-json" 2>&1 || fail "status --json $job failed"
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
    export HOME="$SCRATCH/home-killed"
    mkdir -p "$HOME"
    printf 'import time\nfrom evofarm import futures\nwhile True:\n    list(futures.map(abs, range(20)))\n    time.sleep(0.05)\n' \
        > "$SCRATCH/forever.py"
    (cd "$SCRATCH" && timeout 120 srun --evo-farm -N2 -n3 /usr/bin/python3 forever.py) > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! rec=""
    for _ in $(seq 200); do rec=$(ls "$HOME/.evo-farm/farms" 2> /dev/null | grep -v '\.join$' | head -1); [ -n "$rec" ] && break; sleep 0.05; done
    [ -n "$rec" ] || { kill $srun_pid; tail "$SCRATCH/out"; fail "no farm record"; }
    scancel -s KILL "$rec" || fail "scancel -s KILL $rec refused"
    wait $srun_pid 2> /dev/null || true
    [ -e "$HOME/.evo-farm/farms/$rec" ] || fail "the killed step removed its record (nothing to test)"
    timeout 5 "$EVO" status > "$SCRATCH/list" 2>&1 || { cat "$SCRATCH/list"; fail "status failed or took over 5 s"; }
    cat "$SCRATCH/list"
    ! grep -q "^$rec " "$SCRATCH/list" || fail "the killed step is listed"
    [ ! -e "$HOME/.evo-farm/farms/$rec" ] || fail "status kept the killed step's record"
    [ ! -e "$HOME/.evo-farm/farms/$rec.join" ] || fail "status kept the killed step's join credential"
}

# Keys by role in a step (issue 14 point 2): rank 0 alone gets the driver
# key, the worker tasks of both nodes the worker and nested keys, checked
# from inside the evaluators (tests/integration/roles.py), whose nested
# futures reach the step's farm over ZeroMQ with the nested key.
t_keys_by_role_in_a_step() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/roles.yaml"
    (cd "$SCRATCH" && timeout 120 srun --evo-farm=roles.yaml -N2 -n4 /usr/bin/python3 \
        "$ROOT/tests/integration/roles.py") > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    cat "$SCRATCH/out"
    expect_in "$SCRATCH/out" "roles ok"
    expect_in "$SCRATCH/out" "0 connections refused"
    expect_both_nodes "$SCRATCH/out"
}

# farm_and_joiner N — a farm of srun -N1 -n3 on node1 mapping N slow
# vectors in the background (SRUN_PID; its record REC), and a second job on
# node2, an #SBATCH --evo-farm-join=JOBID script whose srun runs evo-farm,
# two tasks (JOINER), once status counts its workers (shown in
# $SCRATCH/status).
farm_and_joiner() {
    export HOME="$SCRATCH/home"
    mkdir -p "$HOME"
    local cfg; cfg=$(lib_config sj slow_sphere)
    printf 'environment: {env: {EVO_JOINED_MARK: "from the farm"}}\n' >> "$cfg"
    (cd "$SCRATCH" && timeout 120 srun --evo-farm="$cfg" -N1 -n3 -w node1 "$EVO" "$DRIVER" verify sphere "$1" 3) \
        > "$SCRATCH/farm.out" 2>&1 &
    SRUN_PID=$! REC=""
    for _ in $(seq 200); do REC=$(ls "$HOME/.evo-farm/farms" 2> /dev/null | grep -v '\.join$' | head -1); [ -n "$REC" ] && break; sleep 0.05; done
    [ -n "$REC" ] || { wait $SRUN_PID; tail "$SCRATCH/farm.out"; fail "no farm record"; }
    cat > "$SCRATCH/joiner.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm-join=${REC%%.*}
#SBATCH -N1 -n2 -w node2
srun "$EVO"
JOB
    JOINER=$(cd "$SCRATCH" && sbatch --parsable -o "$SCRATCH/joiner.out" joiner.sh) || fail "sbatch refused the joiner"
    local joined=0
    wait_workers "$REC" 4 150 && joined=1
    "$EVO" status "$REC" > "$SCRATCH/status" 2>&1 || true
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

# Workers join a running farm from another job (issue 14 point 3): the
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
    "$EVO" drain "$JOINER" > "$SCRATCH/drain.out" 2>&1 || { cat "$SCRATCH/drain.out"; fail "drain failed"; }
    expect_in "$SCRATCH/drain.out" "farm $REC: 2 workers of $JOINER draining"
    wait_job "$JOINER" "$SCRATCH/joiner.out"
    wait $SRUN_PID || { tail "$SCRATCH/farm.out"; fail "the farm failed"; }
    expect_in "$SCRATCH/farm.out" "mapdriver: 20000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/farm.out" "0 requeued from lost workers"
    grep -E "evaluations done" "$SCRATCH/farm.out" | sed 's/^/    /'
    "$EVO" drain "$JOINER" > "$SCRATCH/out" 2>&1 && fail "drained the workers of a farm that has ended"
    expect_in "$SCRATCH/out" "no worker of $JOINER in any running farm of yours"
}

# The tutorial's DEAP script as rank 0's driver with evofarm.futures, its
# fitness calls on the other tasks of both nodes: the same logbook as the
# builtin map gives with the same seed.
t_deap_tutorial_two_nodes() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/deap.yaml"
    mkdir -p "$SCRATCH/deap" "$SCRATCH/deap-ref"
    (cd "$SCRATCH/deap" && timeout 120 srun --evo-farm=../deap.yaml -N2 -n6 "$EVO" /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 30) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_both_nodes "$SCRATCH/out"
    (cd "$SCRATCH/deap-ref" && PYTHONPATH="$ROOT/python" /usr/bin/python3 "$ROOT/examples/deap/evolution.py" 5 --seed 5 \
        --ngen 30 --builtin-map > /dev/null 2>&1) || fail "reference run failed"
    cmp "$SCRATCH/deap/logbook_c5.txt" "$SCRATCH/deap-ref/logbook_c5.txt" || fail "logbook differs from the builtin map's"
    grep -q '"cores": 5' "$SCRATCH/deap/solutions_c5_n5.json" || fail "solutions json does not say 5 cores"
}

# Slurm replays an option (an #SBATCH line into every srun of the job): a
# value given twice is accepted, and the last --evo-farm given wins.
t_option_twice_last_wins() {
    printf 'evaluate: {command: [x]}\nenvironment: {env: {EVO_WHICH: a}}\n' > "$SCRATCH/a.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {env: {EVO_WHICH: b}}\n' > "$SCRATCH/b.yaml"
    # rank 0 runs the command as the farm's driver (the other task is a worker)
    (cd "$SCRATCH" && srun --evo-farm=a.yaml --evo-farm=a.yaml -N2 -n2 sh -c 'echo "which=$EVO_WHICH"') \
        > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "the same value twice was refused"; }
    [ "$(grep -c '^which=a$' "$SCRATCH/out")" = 1 ] || { cat "$SCRATCH/out"; fail "a.yaml did not reach the driver"; }
    (cd "$SCRATCH" && srun --evo-farm=a.yaml --evo-farm=b.yaml -n2 sh -c 'echo "which=$EVO_WHICH"') \
        > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "srun exited $?"; }
    expect_in "$SCRATCH/out" "which=b"
    # #SBATCH --evo-farm=a.yaml, then one srun inherits it, another overrides
    # it, and a third opts out (--evo-farm=none: a plain step on every task)
    cat > "$SCRATCH/job.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/a.yaml
#SBATCH -n2
srun sh -c 'echo "inherited=\$EVO_WHICH"'
srun --evo-farm=$SCRATCH/b.yaml sh -c 'echo "overridden=\$EVO_WHICH"'
srun --evo-farm=none sh -c 'echo "plain=\${EVO_WHICH:-none} \${EVO_FARM_CONFIG_TEXT:-none}"'
JOB
    run_job "$SCRATCH" job.sh "$SCRATCH/job.out"
    expect_in "$SCRATCH/job.out" "inherited=a"
    expect_in "$SCRATCH/job.out" "overridden=b"
    [ "$(grep -c '^plain=none none$' "$SCRATCH/job.out")" = 2 ] || { cat "$SCRATCH/job.out"; fail "--evo-farm=none did not opt out"; }
}

# An MPI type that cannot wire up a farm, given explicitly: refused before
# launch with the fix in one line.
t_step_without_wire_up_refused() {
    rm -f "$SCRATCH/ran"
    (cd "$SCRATCH" && srun --mpi=none --evo-farm="$EXAMPLE" -n2 touch "$SCRATCH/ran") > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "evo-farm: --evo-farm needs PMIx or PMI-2 but this step uses --mpi=none: leave --mpi out"
    [ ! -e "$SCRATCH/ran" ] || fail "something ran"
}

t_venv_reaches_every_task() {
    "$PY" -m venv --without-pip "$SCRATCH/venv"
    cat > "$SCRATCH/venv.yaml" <<YAML
evaluate: {command: [python3, $FITNESS, slow_prefix]}
environment: {venv: $SCRATCH/venv}
YAML
    # fitness.py "slow_prefix" answers len(sys.prefix): every result must be
    # the venv's (10 ms each, so the tasks of both nodes have joined by then).
    (cd "$SCRATCH" && timeout 60 srun --evo-farm=venv.yaml -N2 -n4 "$EVO" "$DRIVER" constant 200 2 \
        $(( ${#SCRATCH} + 5 )) > "$SCRATCH/out" 2>&1) || { tail "$SCRATCH/out"; fail "srun exited $?"; }
    local want=$(( ${#SCRATCH} + 5 ))
    expect_in "$SCRATCH/out" "200 results, all equal to $want"
    expect_both_nodes "$SCRATCH/out"
    printf 'evaluate: {command: [x]}\nenvironment: {venv: %s/novenv}\n' "$SCRATCH" > "$SCRATCH/novenv.yaml"
    (cd "$SCRATCH" && srun --evo-farm=novenv.yaml -n2 true) > "$SCRATCH/out" 2>&1 && fail "accepted"
    # on whichever node Slurm gave the two tasks (node1 mostly; 24.11 once chose node2)
    grep -qE "environment.venv $SCRATCH/novenv has no $SCRATCH/novenv/bin/python on node[12] " "$SCRATCH/out" ||
        { cat "$SCRATCH/out"; fail "no line naming the missing venv and the node"; }
}

# The module's variables in every task: the driver (rank 0) prints its
# own, each worker's evaluator writes its task's into a file and answers 0.
t_modules_reach_every_task() {
    mkdir -p "$SCRATCH/modenv"
    cat > "$SCRATCH/mod.yaml" <<YAML
farm: {batch: 1}
evaluate: {command: [sh, -c, 'while read x; do echo "\$(hostname) \$EVO_TESTMOD \$EVO_TESTMOD_PATH \$EVO_EXTRA \$OMP_NUM_THREADS" > $SCRATCH/modenv/\$\$; echo 0; done']}
environment: {modules: [testmod], env: {EVO_EXTRA: {prepend: /x}}}
YAML
    (cd "$SCRATCH" && timeout 60 srun --evo-farm=mod.yaml -N2 -n4 "$EVO" sh -c 'echo "driver $(hostname) $EVO_TESTMOD $EVO_TESTMOD_PATH $EVO_EXTRA $OMP_NUM_THREADS"; '"$DRIVER"' constant 300 2 0') \
        > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "srun exited $?"; }
    expect_in "$SCRATCH/out" "driver node1 loaded /opt/testmod/bin /x 1"
    expect_in "$SCRATCH/out" "300 results, all equal to 0"
    [ "$(cat "$SCRATCH"/modenv/* | grep -c "loaded /opt/testmod/bin /x 1")" = 3 ] ||
        { cat "$SCRATCH"/modenv/*; fail "not every worker task saw the module"; }
    grep -q "node2 loaded" "$SCRATCH"/modenv/* || fail "node2 did not get the module"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [testmod, nosuchmod]}\n' > "$SCRATCH/mod.yaml"
    (cd "$SCRATCH" && srun --evo-farm=mod.yaml -N2 -n2 true) > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "module load testmod nosuchmod failed on node"
    expect_in "$SCRATCH/out" "nosuchmod"
}

t_strangers_refused_in_a_step() {
    (cd "$SCRATCH" && timeout 120 srun --evo-farm="$EXAMPLE" -N2 -n4 "$EVO" "$DRIVER" attack) \
        > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "srun exited $?"; }
    expect_in "$SCRATCH/out" "2000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "mapdriver: auth_refused="
}

# expect_refused NAME TEXT SRUN-ARGS... — the step fails with one clear
# "evo-farm:" line containing TEXT, and nothing of it ran.
expect_refused() {
    local name=$1 text=$2; shift 2
    rm -f "$SCRATCH/ran"
    (cd "$SCRATCH" && timeout 60 srun "$@" sh -c "touch $SCRATCH/ran") > "$SCRATCH/$name.out" 2>&1 &&
        { cat "$SCRATCH/$name.out"; fail "$name: accepted"; }
    grep -F -- "$text" "$SCRATCH/$name.out" | grep -q "evo-farm: " ||
        { cat "$SCRATCH/$name.out"; fail "$name: no line saying '$text'"; }
    [ ! -e "$SCRATCH/ran" ] || fail "$name: the command ran"
}

# Everything a user can write wrong (YAML, module names, modulefiles that
# hang or leave a process behind, an env printing garbage, a venv outside
# the site's roots through a symlink, a bad MPI type): each fails the step
# with one line, and afterwards both nodes are idle (never drained) and no
# slurmstepd is left.
t_zy_user_errors_leave_nodes_idle() {
    local stack="$CLUSTER/etc/plugstack.conf" saved
    saved=$(cat "$stack")
    mkdir -p "$SCRATCH/roots/allowed" "$SCRATCH/outside"
    "$PY" -m venv --without-pip "$SCRATCH/outside/venv"
    ln -sfn "$SCRATCH/outside/venv" "$SCRATCH/roots/allowed/venv"
    echo "$saved modules_timeout=2 venv_roots=$SCRATCH/roots/allowed" > "$stack"
    printf 'evaluate: {command: [x]}\nfarm: {retries: lots}\n' > "$SCRATCH/u1.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [nosuchmod]}\n' > "$SCRATCH/u2.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [hangmod]}\n' > "$SCRATCH/u3.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [bgmod]}\n' > "$SCRATCH/u4.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {venv: %s/roots/allowed/venv}\n' "$SCRATCH" > "$SCRATCH/u5.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {venv: %s/roots/allowed/../../outside/venv}\n' "$SCRATCH" \
        > "$SCRATCH/u6.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [garbagemod]}\n' > "$SCRATCH/u7.yaml"
    expect_refused yaml "farm.retries: expected a whole number" --evo-farm=u1.yaml -N2 -n2
    expect_refused unknown-module "module load nosuchmod failed on node" --evo-farm=u2.yaml -N2 -n2
    expect_refused hanging-module "module load hangmod on node1: no answer within 2 s (killed)" --evo-farm=u3.yaml -N2 -n2
    expect_refused background-module "module load bgmod on node" --evo-farm=u4.yaml -N2 -n2
    expect_refused venv-symlink "is outside the directories this site allows" --evo-farm=u5.yaml -N2 -n2
    expect_refused venv-dotdot "is outside the directories this site allows" --evo-farm=u6.yaml -N2 -n2
    expect_refused mpi "needs PMIx or PMI-2 but this step uses --mpi=cray_shasta" --mpi=cray_shasta --evo-farm="$EXAMPLE" -n2
    expect_refused garbage-env "printed something that is not an environment" --evo-farm=u7.yaml -N2 -n2
    echo "$saved" > "$stack"
    local states="" left=""
    for _ in $(seq 50); do
        states=$(sinfo -h -o "%t" | sort -u | tr '\n' ' ')
        left=$(./cluster.sh pids "$CLUSTER" '^slurmstepd')
        [ "$states" = "idle " ] && [ -z "$left" ] && break
        sleep 0.2
    done
    [ "$states" = "idle " ] || { sinfo; fail "nodes not idle after the failures: $states"; }
    [ -z "$left" ] || { ps -o pid,args -p $left; fail "slurmstepd left behind"; }
    [ -z "$(./cluster.sh pids "$CLUSTER" '^sleep 1000')" ] || fail "a modulefile's process outlived its step"
    return 0
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

# A worker task killed -9 mid-run under --no-kill: every result still comes.
t_kill_worker_task_no_kill() {
    printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: sleep_1ms}\n' "$TESTLIB" > "$SCRATCH/slow.yaml"
    (cd "$SCRATCH" && timeout 120 srun --no-kill --evo-farm=slow.yaml -N2 -n6 "$EVO" "$DRIVER" verify sphere 4000 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! victim=""
    for _ in $(seq 100); do
        victim=$(worker_tasks '^SLURM_PROCID=3$' | head -1)
        [ -n "$victim" ] && break
        sleep 0.05
    done
    [ -n "$victim" ] || fail "no worker task found"
    sleep 0.4
    kill -9 "$victim"
    wait $srun_pid || true
    expect_in "$SCRATCH/out" "4000 results, 0 failed, all as expected"
    # a worker of a 1 ms evaluator always holds a task
    grep -qE "[1-9][0-9]* requeued from lost workers" "$SCRATCH/out" || fail "nothing was requeued"
}

# Every worker task of a step lost (kill -9 under --no-kill) while rank 0's
# map waits: after EVO_FARM_GIVE_UP seconds without a worker the waiting
# evaluations fail with the reason and the step ends, instead of hanging.
# (PMI-2: the PMIx plugin of 22.05 cancels a step whose tasks abort.)
t_all_worker_tasks_lost() {
    printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: sleep_1ms}\n' "$TESTLIB" > "$SCRATCH/slow.yaml"
    (cd "$SCRATCH" && EVO_FARM_GIVE_UP=2 timeout 60 srun --no-kill --mpi=pmi2 --evo-farm=slow.yaml -N2 -n3 "$EVO" "$DRIVER" verify sphere 100000 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! victims=""
    for _ in $(seq 100); do
        victims="$(worker_tasks '^SLURM_PROCID=1$') $(worker_tasks '^SLURM_PROCID=2$')"
        [ "$(echo $victims | wc -w)" = 2 ] && break
        sleep 0.05
    done
    [ "$(echo $victims | wc -w)" = 2 ] || fail "no 2 worker tasks found"
    sleep 0.5
    kill -9 $victims
    local rc=0
    wait $srun_pid || rc=$?
    [ $rc != 124 ] || { tail "$SCRATCH/out"; fail "the step hung with no worker left"; }
    expect_in "$SCRATCH/out" "no worker has been connected for 2 s"
    grep -qE "mapdriver: 100000 results, [1-9][0-9]* failed" "$SCRATCH/out" || { tail "$SCRATCH/out"; fail "not every evaluation answered"; }
}

# A whole node lost mid-run under --no-kill (its slurmd, slurmstepd and
# tasks killed -9): the farm on the other node finishes every task. Runs
# last in its suite's order of names (t_z...) and brings the node back.
t_zz_kill_whole_node_no_kill() {
    printf 'farm: {heartbeat: 200ms}\nevaluate: {library: %s, function: sleep_1ms}\n' "$TESTLIB" > "$SCRATCH/slow.yaml"
    local start=$(date +%s%N)
    (cd "$SCRATCH" && timeout 120 srun --no-kill --evo-farm=slow.yaml -N2 --ntasks-per-node=3 "$EVO" "$DRIVER" verify sphere 12000 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! seen=""
    for _ in $(seq 100); do
        seen=$(worker_tasks '^SLURMD_NODENAME=node2$')
        [ "$(echo $seen | wc -w)" = 3 ] && break
        sleep 0.05
    done
    [ "$(echo $seen | wc -w)" = 3 ] || fail "no 3 worker tasks on node2"
    sleep 0.5
    ./cluster.sh kill-node "$CLUSTER" 2
    local rc=0
    wait $srun_pid || rc=$?
    echo "    srun exited $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms"
    ./cluster.sh start-node "$CLUSTER" 2 > /dev/null
    expect_in "$SCRATCH/out" "12000 results, 0 failed, all as expected"
    grep -qE "[1-9][0-9]* requeued from lost workers" "$SCRATCH/out" || fail "no task was requeued from node2"
    expect_in "$SCRATCH/out" "workers connected at the end: node1"
    grep -q "node2" <(grep "connected at the end" "$SCRATCH/out") && fail "node2 workers still counted"
    cat "$SCRATCH/out"
}

status=0
start_cluster loopback || exit 1
# The wire-up the plugin picks on this Slurm: PMIx where it has the plugin.
AUTO_MPI=pmi2
srun --mpi=list 2>&1 | grep -qw pmix && AUTO_MPI=pmix
echo "slurm: $(srun --version), the plugin's wire-up: $AUTO_MPI"
run_tests "slurm (loopback)"
[ $? = 0 ] || status=1
./cluster.sh stop "$CLUSTER" > /dev/null 2>&1
if unshare --net true 2> /dev/null && command -v ip > /dev/null &&
    ip link add evofprobe0 type bridge 2> /dev/null && ip link del evofprobe0; then
    unset -f $(declare -F | awk '{print $3}' | grep '^t_')
    # node2 reaching a broker in node1's network namespace proves the card
    # carried a routable address (127.0.0.1 there is another machine).
    t_srun_example_netns() { run_example "$SCRATCH/out"; }
    t_status_from_login_node_netns() { status_from_here; }
    start_cluster netns || exit 1
    run_tests "slurm (netns)"
    [ $? = 0 ] || status=1
else
    echo "slurm (netns): SKIPPED: this machine cannot create network namespaces"
fi
exit $status
