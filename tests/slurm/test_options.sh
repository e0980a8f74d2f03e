# test_options.sh — the --evo-farm option beyond a plain srun: the example
# through sbatch and #SBATCH, --export=NONE (srun, #SBATCH, SBATCH_EXPORT),
# its one line in srun/sbatch/salloc --help, and the option given twice
# (Slurm's replays; the last wins, --evo-farm=none opts out).

# --export=NONE on srun, and on sbatch (#SBATCH --export=NONE reaching the
# job's plain srun): the farm's variables travel as SLURM_ ones, and the
# task sees them under their EVO_FARM_ names only.
t_export_none() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/evolution.yaml"
    user_dir "$SCRATCH/none"
    (cd "$SCRATCH/none" && timeout -k 10 120 srun --export=NONE --evo-farm=../evolution.yaml -N2 -n4 /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 2) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun --export=NONE failed"; }
    expect_in "$SCRATCH/out" "3 workers connected at the end"
    (cd "$SCRATCH" && timeout -k 10 60 srun --export=NONE --evo-farm=evolution.yaml -N1 -n2 /usr/bin/env) > "$SCRATCH/env" 2>&1 ||
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
#SBATCH -N2 -n6 -O
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

t_option_in_help() {
    local cmd
    for cmd in srun sbatch salloc; do
        $cmd --help > "$SCRATCH/help" 2>&1 || true
        # on one line, not wrapped
        grep -qE -- "--evo-farm=FILE +Run as an evo-farm task farm \(described by FILE\)$" "$SCRATCH/help" ||
            { grep -A1 -- --evo-farm "$SCRATCH/help"; fail "$cmd --help: no one-line --evo-farm"; }
    done
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

# An #SBATCH --evo-farm job whose farm's driver runs an srun of its own
# (an MPI simulation per candidate, say): that srun is a plain step. The
# replay variable that makes the job's sruns farms (its name begins with
# SLURM_SPANK_, which Slurm does not strip) is not in the farm's tasks.
# (--overlap --mem=0: the farm's step holds the job's CPUs and, memory
# being a consumable, all of its memory; --overlap alone shares only the
# CPUs on 22.05, and --mem=0 lets the step use the job's memory.)
t_nested_srun_is_not_a_farm() {
    local cfg; cfg=$(lib_config nested sphere)
    cat > "$SCRATCH/nested.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$cfg
#SBATCH -N2 -n3
srun sh -c 'srun --overlap --mem=0 -N1 -n1 sh -c "echo nested-step \\\$SLURM_STEP_ID" && exec $DRIVER verify sphere 100 3'
JOB
    run_job "$SCRATCH" nested.sh "$SCRATCH/nested.out"
    expect_in "$SCRATCH/nested.out" "nested-step 1"
    expect_in "$SCRATCH/nested.out" "100 results, 0 failed, all as expected"
    ! grep -q "step refused\|needs at least 2 tasks" "$SCRATCH/nested.out" || { cat "$SCRATCH/nested.out"; fail "the nested srun was made a farm"; }
}

# A job array of farms (#SBATCH --array=0-1, output.dir the default
# `results`): each element writes its own results/ARRAYJOB_INDEX, instead
# of both writing (and one losing) results/result.json; `evo-farm status
# ARRAYJOB_INDEX` finds an element's farm while it runs.
t_job_array_elements_keep_their_results() {
    user_dir "$SCRATCH/array"
    own_home array # where rank 0 records the farm
    cat > "$SCRATCH/array.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: slow_rastrigin}
optimize: {strategy: cma-es, dimension: 6, centroid: 3.0, sigma: 2.0, lambda: 24, generations: 300, seed: 7, tolfun: 0, tolx: 0}
YAML
    cat > "$SCRATCH/array.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$SCRATCH/array.yaml
#SBATCH --array=0-1
#SBATCH -N1 -n3 -O
srun "$EVO"
JOB
    local job state element="" listed=0
    job=$(cd "$SCRATCH/array" && sbatch --parsable -o "$SCRATCH/array-%a.out" ../array.sh) || fail "sbatch refused the array"
    for _ in $(seq 1200); do # an element may wait for a scheduler pass
        element=$(squeue -h -t R -o %A -j "${job}_1" 2> /dev/null | head -1)
        [ -n "$element" ] && as_user "$EVO" status "${job}_1" > "$SCRATCH/array-status" 2>&1 &&
            grep -qE "^farm +$element\.0 " "$SCRATCH/array-status" && listed=1 && break
        squeue -h -j "$job" 2> /dev/null | grep -q . || break # the array ended
        sleep 0.05
    done
    [ $listed = 1 ] || { cat "$SCRATCH/array-status"; fail "evo-farm status ${job}_1 did not find element 1's farm"; }
    for _ in $(seq 1200); do
        [ -z "$(squeue -h -j "$job" 2> /dev/null)" ] && break
        sleep 0.1
    done
    state=$(scontrol show job "$job" | grep -o "JobState=[A-Z]*" | sort -u | tr '\n' ' ')
    [ "$state" = "JobState=COMPLETED " ] || { cat "$SCRATCH"/array-*.out; fail "the array ended $state"; }
    local i
    for i in 0 1; do
        grep -q '"fit": [0-9]' "$SCRATCH/array/results/${job}_$i/result.json" 2> /dev/null ||
            { ls -R "$SCRATCH/array"; cat "$SCRATCH/array-$i.out"; fail "element $i has no result.json of its own"; }
        expect_in "$SCRATCH/array-$i.out" "results in results/${job}_$i"
    done
}

# salloc --evo-farm with LaunchParameters=use_interactive_step: salloc
# runs the user's shell as the interactive step (srun --interactive
# --pty $SHELL), which is not a farm; the sruns typed in that shell are.
t_salloc_interactive_step() {
    # slow_sphere (1 ms each): both workers join before the map ends, even
    # on a loaded machine (200 plain spheres took 0.07 s, before one did)
    local cfg; cfg=$(lib_config inter slow_sphere)
    printf '%s\n' "echo shell-step \$SLURM_STEP_ID" "srun $EVO $DRIVER verify slow_sphere 1500 3" "exit" |
        (cd "$SCRATCH" && timeout -k 10 60 salloc --evo-farm="$cfg" -N2 -n3) > "$SCRATCH/salloc.out" 2>&1 ||
        { cat "$SCRATCH/salloc.out"; fail "salloc failed"; }
    expect_in "$SCRATCH/salloc.out" "shell-step "
    expect_in "$SCRATCH/salloc.out" "1500 results, 0 failed, all as expected"
    expect_in "$SCRATCH/salloc.out" "2 workers connected at the end"
}

# Two farm steps at once in one allocation (sbatch -N2 -n4, the nodes' 4
# CPUs, two sruns of -n2 --exact in the background, each with its share of
# CPUs and memory): each is its own farm, with its own record (JOBID.0
# and JOBID.1), keys and worker, and both finish every task.
t_two_farm_steps_in_one_job() {
    local cfg; cfg=$(lib_config two slow_sphere)
    cat > "$SCRATCH/two.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm=$cfg
#SBATCH -N2 -n4
srun -n2 --exact --mem=400M "$EVO" "$DRIVER" verify slow_sphere 1500 3 > "$SCRATCH/two-a.out" 2>&1 &
srun -n2 --exact --mem=400M "$EVO" "$DRIVER" verify slow_sphere 1500 3 > "$SCRATCH/two-b.out" 2>&1 &
wait
JOB
    run_job "$SCRATCH" two.sh "$SCRATCH/two.out" || { cat "$SCRATCH"/two-?.out; return 1; }
    local f
    for f in two-a two-b; do
        expect_in "$SCRATCH/$f.out" "1500 results, 0 failed, all as expected"
        expect_in "$SCRATCH/$f.out" "1 worker connected at the end"
        expect_in "$SCRATCH/$f.out" " 0 connections refused"
    done
}
