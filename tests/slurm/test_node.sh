# test_node.sh — the node as a site has it: the open-files limit srun
# hands the tasks, the CPUs task/affinity gives a task, a step's memory
# limit (ConstrainRAMSpace) overrun by an evaluator.

# srun hands every task the submitting shell's soft RLIMIT_NOFILE (sites
# leave it at 1024, so the same wall stands near 1,000 workers): with 24,
# rank 0's broker could not take 29 workers' connections. Every farm
# process raises its soft limit to the hard one; the driver keeps 24.
t_low_open_files_limit_raised() {
    local cfg; cfg=$(lib_config files sphere)
    printf 'echo "driver limit $(ulimit -n)"\nexec "$@"\n' > "$SCRATCH/limit.sh"
    local rc=0
    (cd "$SCRATCH" && ulimit -Sn 24 && timeout 120 srun --evo-farm="$cfg" -N2 -n30 -O "$EVO" \
        sh "$SCRATCH/limit.sh" "$DRIVER" verify sphere 3000 3) > "$SCRATCH/out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
    expect_in "$SCRATCH/out" "3000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "29 workers connected at the end"
    expect_in "$SCRATCH/out" "driver limit 24"
}

# A local farm inside a task of one CPU (srun -c1, bound by task/affinity
# where the cluster runs it) starts one worker per CPU the task has, as
# nproc counts them, not one per core of the node.
t_local_farm_counts_the_tasks_cpus() {
    local cfg; cfg=$(lib_config cpus sphere)
    local rc=0
    (cd "$SCRATCH" && timeout 60 srun -n1 -c1 sh -c \
        'echo "task cpus $(nproc)"; "$0" run "$1" -- "$2" verify sphere 300 3' "$EVO" "$cfg" "$DRIVER") \
        > "$SCRATCH/out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
    expect_in "$SCRATCH/out" "300 results, 0 failed, all as expected"
    local cpus; cpus=$(sed -n 's/^task cpus //p' "$SCRATCH/out")
    if grep -q '^TaskPlugin=.*task/affinity' "$SLURM_CONF"; then
        [ "$cpus" = 1 ] || fail "task/affinity gave the task $cpus CPUs, not 1"
    fi
    grep -qE "^evo-farm: $cpus workers? connected at the end" "$SCRATCH/out" ||
        { tail -3 "$SCRATCH/out"; fail "the farm did not start one worker per CPU of the task ($cpus)"; }
}

# An evaluator that overruns the step's memory (--mem under
# ConstrainRAMSpace) is the one the kernel kills, never the broker: that
# call fails after its attempts, with the reason; every other call is
# answered. (Slurm still reports the step as Out Of Memory, and srun exits
# non-zero, as for any process of a step the cgroup's killer ends:
# task/cgroup counts the memory cgroup's OOM events.)
t_evaluator_overrunning_memory_fails_alone() {
    grep -q '^TaskPlugin=.*task/cgroup' "$SLURM_CONF" || { echo "    (no task/cgroup: memory is not constrained)"; return 0; }
    printf 'farm: {retries: 1}\nevaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/oom.yaml"
    cat > "$SCRATCH/oom.py" <<'PY'
from evofarm import futures
def f(i):
    if i == 13:
        return len(b"x" * (600 << 20))  # past the step's 200 MB
    return i * i
if __name__ == "__main__":
    calls = [futures.submit(f, i) for i in range(40)]
    right = failed = 0
    for i, call in enumerate(calls):
        try:
            assert call.result() == i * i, i
            right += 1
        except AssertionError:
            raise
        except Exception as e:
            print("call %d failed: %s" % (i, str(e).splitlines()[0]))
            failed += 1
    print("%d right, %d failed" % (right, failed))
PY
    local rc=0
    (cd "$SCRATCH" && timeout 120 srun --evo-farm=oom.yaml -N1 -n3 -O --mem=200M /usr/bin/python3 oom.py) \
        > "$SCRATCH/out" 2>&1 || rc=$?
    [ "$rc" != 124 ] || fail "the step did not end"
    cat "$SCRATCH/out"
    expect_in "$SCRATCH/out" "39 right, 1 failed"
    grep -qE "^call 13 failed: .*(signal 9|Killed|SIGKILL)" "$SCRATCH/out" || fail "call 13 did not fail by the kernel's kill"
    expect_in "$SCRATCH/out" "2 workers connected at the end"
}
