# test_job_end.sh — the end of a job that is not the end of the work: a
# requeue (scontrol requeue, what preemption with PreemptMode=REQUEUE
# does) signals the built-in driver, which writes a checkpoint, and the
# job's next run resumes from it by itself; a Python driver's job
# requeues itself on a signal and its journal answers what was done.

# cmaes_job_at_31 NAME GENERATIONS SBATCH-OPTIONS — a slow built-in
# CMA-ES (no periodic checkpoint, tolfun and tolx off) run on this machine
# alone into $SCRATCH/NAME-ref as the reference, then as an sbatch job
# with SBATCH-OPTIONS from $SCRATCH/NAME (output NAME.out, appended); JOB
# once its logbook counts 31 generations or more.
cmaes_job_at_31() {
    local name=$1 at=0
    cat > "$SCRATCH/$name.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: slow_rastrigin}
optimize: {strategy: cma-es, dimension: 6, centroid: 3.0, sigma: 2.0, lambda: 24, generations: $2, seed: 7, checkpoint: 0, tolfun: 0, tolx: 0}
YAML
    user_dir "$SCRATCH/$name-ref" "$SCRATCH/$name"
    rm -rf "$SCRATCH/$name-ref/results" "$SCRATCH/$name/results"
    (cd "$SCRATCH/$name-ref" && as_user "$EVO" run "../$name.yaml" -n 2 -q > /dev/null 2>&1) || fail "the reference run failed"
    cat > "$SCRATCH/$name.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/$name.yaml
#SBATCH --requeue --open-mode=append $3
srun "$EVO"
JOB
    JOB=$(cd "$SCRATCH/$name" && sbatch --parsable -o "$SCRATCH/$name.out" "../$name.sh") || fail "sbatch refused the job"
    for _ in $(seq 600); do
        at=$(($({ wc -l < "$SCRATCH/$name/results/logbook.csv"; } 2> /dev/null || echo 1) - 1)) # a header, then a line a generation
        [ "$at" -ge 31 ] && break
        sleep 0.05
    done
    [ "$at" -ge 31 ] || { scancel "$JOB"; cat "$SCRATCH/$name.out"; fail "the job never reached generation 31"; }
}

# completed_after_one_restart JOB OUT HOW — JOB ends (2 minutes at most)
# COMPLETED, after one restart (HOW: "requeued", "preempted"...); OUT
# shown if not.
completed_after_one_restart() {
    local state=""
    for _ in $(seq 1200); do
        state=$(scontrol show job "$1" 2> /dev/null | grep -o "JobState=[A-Z]*")
        [ "$state" = JobState=COMPLETED ] || [ "$state" = JobState=FAILED ] && break
        sleep 0.1
    done
    [ "$state" = JobState=COMPLETED ] || { scancel "$1"; cat "$2"; fail "the $3 job ended $state"; }
    scontrol show job "$1" | grep -q "Restarts=1" || { cat "$2"; fail "the job was not $3"; }
}

# resumed_as_never_stopped NAME HOW — job JOB (cmaes_job_at_31 NAME) ends
# COMPLETED after one restart (HOW: "requeued", "preempted"), its driver
# having said it stopped and resumed, with the reference's logbook.
resumed_as_never_stopped() {
    completed_after_one_restart "$JOB" "$SCRATCH/$1.out" "$2"
    # No periodic checkpoint (checkpoint: 0): only the one SIGTERM made can
    # resume it past generation 31. (The driver's "stopped by signal 15"
    # line may be lost: srun, which forwards it, is being ended too.)
    grep "stopped by signal\|resuming" "$SCRATCH/$1.out" | sed 's/^/    /'
    local from
    from=$(sed -n 's/^cma-es: resuming results at generation \([0-9]*\) .*/\1/p' "$SCRATCH/$1.out" | head -1)
    [ "${from:-0}" -ge 31 ] || { cat "$SCRATCH/$1.out"; fail "the run did not resume from the checkpoint SIGTERM wrote"; }
    cmp "$SCRATCH/$1-ref/results/logbook.csv" "$SCRATCH/$1/results/logbook.csv" || fail "the logbook differs from an unstopped run's"
}

# The built-in CMA-ES in an sbatch --requeue job, no periodic checkpoint,
# requeued at generation 31 or later: the script runs again, the driver
# resumes, and the logbook and result are those of a run never stopped
# (run on this machine alone as the reference).
t_requeued_job_resumes() {
    cmaes_job_at_31 rq 400 "-N2 -n3"
    as_user scontrol requeue "$JOB" || fail "scontrol requeue $JOB refused"
    resumed_as_never_stopped rq requeued
    diff <(grep -vE '"(time|cores)"' "$SCRATCH/rq-ref/results/result.json") \
        <(grep -vE '"(time|cores)"' "$SCRATCH/rq/results/result.json") || fail "the result differs from an unstopped run's"
}

# Preemption (PreemptMode=REQUEUE): a built-in CMA-ES job holding both
# nodes of the debug partition (--exclusive) is requeued when a job of
# the urgent partition needs them; once that has run, the first job
# resumes from the checkpoint its driver wrote on SIGTERM, to the logbook
# of a run never stopped.
t_preempted_job_resumes() {
    cmaes_job_at_31 pre 300 "-p debug -N2 -n3 --exclusive"
    local urgent
    urgent=$(sbatch --parsable -p urgent -N2 -n2 -o /dev/null --wrap "sleep 1") || fail "the urgent job was refused"
    wait_job "$urgent" /dev/null
    resumed_as_never_stopped pre preempted
}

# The recipe of docs/slurm.md for a Python driver: #SBATCH --requeue,
# --signal=B:USR1@60 trapped by the script to requeue itself, and
# output.journal. Requeued midway, the job's second run answers from the
# journal every call the first run evaluated (not evaluated again) and
# ends with the answers of a run never stopped.
t_python_driver_requeue_recipe() {
    cat > "$SCRATCH/pj.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {python: /usr/bin/python3}
output: {journal: journal}
YAML
    user_dir "$SCRATCH/pj-ref" "$SCRATCH/pj"
    rm -rf "$SCRATCH/pj-ref/"* "$SCRATCH/pj/"*
    (cd "$SCRATCH/pj-ref" && PYTHONPATH="$ROOT/python" as_user "$EVO" run ../pj.yaml -n 2 -- /usr/bin/python3 \
        "$ROOT/tests/slurm/journal_driver.py" 30 > ref.out 2>&1) || { cat "$SCRATCH/pj-ref/ref.out"; fail "the reference run failed"; }
    cat > "$SCRATCH/pj.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/pj.yaml
#SBATCH --requeue --open-mode=append --signal=B:USR1@60
#SBATCH -N2 -n3
trap 'scontrol requeue \$SLURM_JOB_ID' USR1
export PYTHONPATH=$ROOT/python
srun /usr/bin/python3 $ROOT/tests/slurm/journal_driver.py 30 &
wait
JOB
    local job at=0
    job=$(cd "$SCRATCH/pj" && sbatch --parsable -o "$SCRATCH/pj.out" ../pj.sh) || fail "sbatch refused the job"
    for _ in $(seq 600); do
        at=$({ wc -l < "$SCRATCH/pj/generations"; } 2> /dev/null || echo 0)
        [ "$at" -ge 10 ] && break
        sleep 0.05
    done
    [ "$at" -ge 10 ] || { scancel "$job"; cat "$SCRATCH/pj.out"; fail "the job never reached generation 10"; }
    scancel -b -s USR1 "$job" || fail "scancel -b -s USR1 $job refused" # what --signal=B:USR1@60 sends
    completed_after_one_restart "$job" "$SCRATCH/pj.out" "requeued by itself"
    grep -E "answered from the journal|from earlier runs" "$SCRATCH/pj.out" | sed 's/^/    /'
    grep -qE "evo-farm: [1-9][0-9]* evaluations answered from the journal" "$SCRATCH/pj.out" ||
        { cat "$SCRATCH/pj.out"; fail "the second run answered nothing from the journal"; }
    [ "$(grep "^journal driver: " "$SCRATCH/pj.out")" = "$(grep "^journal driver: " "$SCRATCH/pj-ref/ref.out")" ] ||
        { cat "$SCRATCH/pj.out"; fail "the answers differ from a run never stopped"; }
}

# A time limit: Slurm sends SIGTERM to every process of the step, then
# SIGKILL KillWait (2 s here) later. The built-in CMA-ES, with no periodic
# checkpoint, writes the checkpoint of its last whole generation in that
# window: the job ends TIMEOUT with a checkpoint of as many generations as
# its logbook holds, nothing lost but the generation in flight (a rerun
# resumes from it: t_requeued_job_resumes). The harness (root) shortens
# the limit to 1 minute once the run is going; Slurm checks limits every
# 30 s or so, so the job ends 60 to 90 s after it started.
t_time_limit_leaves_a_checkpoint() {
    cat > "$SCRATCH/tl.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: slow_rastrigin}
optimize: {strategy: cma-es, dimension: 6, centroid: 3.0, sigma: 2.0, lambda: 24, generations: 1000000, seed: 7, checkpoint: 0, restarts: 20}
YAML
    user_dir "$SCRATCH/tl"
    cat > "$SCRATCH/tl.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/tl.yaml
#SBATCH -N2 -n3 --time=10
srun "$EVO"
JOB
    local job at=0 state="" gens rows
    job=$(cd "$SCRATCH/tl" && sbatch --parsable -o "$SCRATCH/tl.out" ../tl.sh) || fail "sbatch refused the job"
    for _ in $(seq 600); do
        at=$(($({ wc -l < "$SCRATCH/tl/results/logbook.csv"; } 2> /dev/null || echo 1) - 1))
        [ "$at" -ge 5 ] && break
        sleep 0.05
    done
    [ "$at" -ge 5 ] || { scancel "$job"; cat "$SCRATCH/tl.out"; fail "the job never reached generation 5"; }
    scontrol update JobId="$job" TimeLimit=1 || { scancel "$job"; fail "cannot shorten the job's time limit"; }
    for _ in $(seq 1500); do
        state=$(scontrol show job "$job" 2> /dev/null | grep -o "JobState=[A-Z]*")
        case $state in JobState=TIMEOUT | JobState=COMPLETED | JobState=FAILED | JobState=CANCELLED) break ;; esac
        sleep 0.1
    done
    [ "$state" = JobState=TIMEOUT ] || { scancel "$job"; cat "$SCRATCH/tl.out"; fail "the job ended $state, not TIMEOUT"; }
    grep "stopped by signal\|DUE TO TIME LIMIT" "$SCRATCH/tl.out" | sed 's/^/    /'
    [ -f "$SCRATCH/tl/results/checkpoint" ] || { cat "$SCRATCH/tl.out"; fail "no checkpoint after the time limit"; }
    gens=$(sed -n 's/^generations //p' "$SCRATCH/tl/results/checkpoint")
    rows=$(($(wc -l < "$SCRATCH/tl/results/logbook.csv") - 1))
    echo "time limit at generation $gens; the logbook holds $rows"
    [ "${gens:-0}" -ge 5 ] && [ "$gens" = "$rows" ] || fail "checkpoint of ${gens:-no} generations, the logbook $rows"
}
