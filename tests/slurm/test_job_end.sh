# test_job_end.sh — the end of a job that is not the end of the work: a
# requeue (scontrol requeue, what preemption with PreemptMode=REQUEUE
# does) signals the built-in driver, which writes a checkpoint, and the
# job's next run resumes from it by itself.

# The built-in CMA-ES in an sbatch --requeue job, no periodic checkpoint,
# requeued at generation 31 or later: the script runs again, the driver
# resumes, and the logbook and result are those of a run never stopped
# (run on this machine alone as the reference).
t_requeued_job_resumes() {
    cat > "$SCRATCH/rq.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: slow_rastrigin}
optimize: {strategy: cma-es, dimension: 6, centroid: 3.0, sigma: 2.0, lambda: 24, generations: 400, seed: 7, checkpoint: 0}
YAML
    mkdir -p "$SCRATCH/rq-ref" "$SCRATCH/rq"
    rm -rf "$SCRATCH/rq-ref/results" "$SCRATCH/rq/results"
    (cd "$SCRATCH/rq-ref" && "$EVO" run ../rq.yaml -n 2 -q > /dev/null 2>&1) || fail "the reference run failed"
    cat > "$SCRATCH/rq.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/rq.yaml
#SBATCH --requeue --open-mode=append
#SBATCH -N2 -n3
srun "$EVO"
JOB
    local job at=0 state=""
    job=$(cd "$SCRATCH/rq" && sbatch --parsable -o "$SCRATCH/rq.out" ../rq.sh) || fail "sbatch refused the job"
    for _ in $(seq 600); do
        at=$(($(wc -l < "$SCRATCH/rq/results/logbook.csv" 2> /dev/null || echo 1) - 1)) # a header, then a line a generation
        [ "$at" -ge 31 ] && break
        sleep 0.05
    done
    [ "$at" -ge 31 ] || { scancel "$job"; cat "$SCRATCH/rq.out"; fail "the job never reached generation 31"; }
    scontrol requeue "$job" || fail "scontrol requeue $job refused"
    for _ in $(seq 1200); do
        state=$(scontrol show job "$job" 2> /dev/null | grep -o "JobState=[A-Z]*")
        [ "$state" = JobState=COMPLETED ] || [ "$state" = JobState=FAILED ] && break
        sleep 0.1
    done
    [ "$state" = JobState=COMPLETED ] || { scancel "$job"; cat "$SCRATCH/rq.out"; fail "the requeued job ended $state"; }
    scontrol show job "$job" | grep -q "Restarts=1" || fail "the job was not requeued"
    expect_in "$SCRATCH/rq.out" "cma-es: stopped by signal 15 at generation"
    expect_in "$SCRATCH/rq.out" "cma-es: resuming results at generation"
    grep "stopped by signal\|resuming" "$SCRATCH/rq.out" | sed 's/^/    /'
    cmp "$SCRATCH/rq-ref/results/logbook.csv" "$SCRATCH/rq/results/logbook.csv" || fail "the logbook differs from an unstopped run's"
    diff <(grep -vE '"(time|cores)"' "$SCRATCH/rq-ref/results/result.json") \
        <(grep -vE '"(time|cores)"' "$SCRATCH/rq/results/result.json") || fail "the result differs from an unstopped run's"
}
