# test_wireup.sh — the README's example under srun on both nodes, and how a
# farm wires up: the plugin's own choice (PMIx or PMI-2), every way a user or
# a site chooses one, an MPI type that cannot wire up refused before launch,
# and a step over before its workers have joined.

# MpiDefault is none: the plugin asks srun for a wire-up itself (-v says
# which): PMIx where this Slurm has it, else PMI-2 (Debian's 26.05).
t_srun_example_two_nodes() {
    run_example "$SCRATCH/out" -v
    expect_in "$SCRATCH/out" "srun: evo-farm: the farm wires up through $AUTO_MPI"
}

# Every way of choosing the wire-up that a user or a site has: --mpi=,
# SLURM_MPI_TYPE and MpiDefault in slurm.conf, each as pmix (where this
# Slurm has it; else srun itself says so in one line) and as pmi2.
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

# A step that is over before its workers have connected (the driver is
# `true`; 32 tasks on 16 CPUs): the latecomers are told BYE and exit at
# once, instead of waiting a minute for a broker that is gone and failing.
t_short_step_many_tasks_ends() {
    local rc=0
    (cd "$SCRATCH" && timeout -k 10 30 srun --evo-farm="$EXAMPLE" -N2 -n32 -O "$EVO" true) > "$SCRATCH/out" 2>&1 || rc=$?
    [ $rc = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
    grep -q "never joined\|giving up" "$SCRATCH/out" && { cat "$SCRATCH/out"; fail "a worker was left behind"; }
    return 0
}

# An MPI type that cannot wire up a farm, given explicitly: refused before
# launch with the fix in one line.
t_step_without_wire_up_refused() {
    rm -f "$SCRATCH/ran"
    (cd "$SCRATCH" && srun --mpi=none --evo-farm="$EXAMPLE" -n2 touch "$SCRATCH/ran") > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "evo-farm: --evo-farm needs PMIx or PMI-2 but this step uses --mpi=none: leave --mpi out"
    [ ! -e "$SCRATCH/ran" ] || fail "something ran"
}

# A heterogeneous step (srun A : B): Slurm numbers the tasks of each
# component from 0 (S_TASK_GLOBAL_ID) and gives SLURM_PROCID the het
# offset; the keys go by SLURM_PROCID, so the second component's first
# task is a worker with the worker's key, not a second driver.
t_heterogeneous_step() {
    local cfg; cfg=$(lib_config het slow_sphere)
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm="$cfg" -n1 -w node1 "$EVO" "$DRIVER" verify slow_sphere 300 3 : \
        -n2 -w node2 "$EVO" "$DRIVER" verify slow_sphere 300 3) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "300 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "2 workers connected at the end"
    expect_in "$SCRATCH/out" " 0 connections refused"
    ! grep -q "never joined" "$SCRATCH/out" || fail "a worker task never joined"
}
