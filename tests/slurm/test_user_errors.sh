# test_user_errors.sh — what a user writes wrong is refused before launch
# with one line: a bad YAML file (srun and sbatch, nothing submitted), then
# everything else (modules, modulefiles, venvs outside the site's roots, a
# bad MPI type, garbage from an env), after which both nodes are idle.

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

# Everything a user can write wrong (YAML, module names, modulefiles that
# hang or leave a process behind, an env printing garbage, a venv outside
# the site's roots through a symlink, a bad MPI type, --multi-prog): each fails the step
# with one line, with the plugin loaded `required` and `optional` alike,
# and nothing of the user's command runs; afterwards both nodes are idle
# (never drained) and no slurmstepd is left.
t_user_errors_leave_nodes_idle() {
    local stack="$CLUSTER/etc/plugstack.conf" saved
    saved=$(cat "$stack")
    user_dir "$SCRATCH/roots/allowed" "$SCRATCH/outside"
    "$PY" -m venv --without-pip "$SCRATCH/outside/venv"
    ln -sfn "$SCRATCH/outside/venv" "$SCRATCH/roots/allowed/venv"
    printf 'evaluate: {command: [x]}\nfarm: {retries: lots}\n' > "$SCRATCH/u1.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [nosuchmod]}\n' > "$SCRATCH/u2.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [hangmod]}\n' > "$SCRATCH/u3.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [bgmod]}\n' > "$SCRATCH/u4.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {venv: %s/roots/allowed/venv}\n' "$SCRATCH" > "$SCRATCH/u5.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {venv: %s/roots/allowed/../../outside/venv}\n' "$SCRATCH" \
        > "$SCRATCH/u6.yaml"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [garbagemod]}\n' > "$SCRATCH/u7.yaml"
    # Slurm ignores an optional plugin's failures: the step must fail closed
    # all the same (the packages ship this line).
    # The broken modulefiles live apart: Lmod evaluates every modulefile on
    # MODULEPATH when a name is unknown (its spider), and would hang on
    # hangmod where Tcl's modulecmd says the name is unknown.
    local line BROKEN_MODULES=$MODULEPATH:$ROOT/tests/slurm/modules-broken
    for line in required optional; do
        echo "$line ${saved#required } modules_timeout=2 venv_roots=$SCRATCH/roots/allowed" > "$stack"
        expect_refused yaml-$line "farm.retries: expected a whole number" --evo-farm=u1.yaml -N2 -n2
        expect_refused unknown-module-$line "module load nosuchmod failed on node" --evo-farm=u2.yaml -N2 -n2
        MODULEPATH=$BROKEN_MODULES expect_refused hanging-module-$line "module load hangmod on node1: no answer within 2 s (killed)" --evo-farm=u3.yaml -N2 -n2
        MODULEPATH=$BROKEN_MODULES expect_refused background-module-$line "module load bgmod on node" --evo-farm=u4.yaml -N2 -n2
        expect_refused venv-symlink-$line "is outside the directories this site allows" --evo-farm=u5.yaml -N2 -n2
        expect_refused venv-dotdot-$line "is outside the directories this site allows" --evo-farm=u6.yaml -N2 -n2
        expect_refused mpi-$line "needs PMIx or PMI-2 but this step uses --mpi=cray_shasta" --mpi=cray_shasta --evo-farm="$EXAMPLE" -n2
        MODULEPATH=$BROKEN_MODULES expect_refused garbage-env-$line "printed something that is not an environment" --evo-farm=u7.yaml -N2 -n2
        printf '0-1 touch %s/ran\n' "$SCRATCH" > "$SCRATCH/multi.conf"
        rm -f "$SCRATCH/ran"
        (cd "$SCRATCH" && timeout -k 10 60 srun --evo-farm="$EXAMPLE" -N2 -n2 --multi-prog multi.conf) > "$SCRATCH/multi.out" 2>&1 &&
            { cat "$SCRATCH/multi.out"; fail "multi-prog-$line: accepted"; }
        expect_in "$SCRATCH/multi.out" "evo-farm: --multi-prog cannot make a farm"
        [ ! -e "$SCRATCH/ran" ] || fail "multi-prog-$line: the command ran"
    done
    echo "$saved" > "$stack"
    local states="" left=""
    for _ in $(seq 150); do # 30 s: a loaded machine ends a failed step slowly; a stuck one never ends
        states=$(sinfo -h -o "%t" | sort -u | tr '\n' ' ')
        left=$(./cluster.sh pids "$CLUSTER" '^slurmstepd')
        [ "$states" = "idle " ] && [ -z "$left" ] && break
        sleep 0.2
    done
    [ "$states" = "idle " ] || { sinfo; fail "nodes not idle after the failures: $states"; }
    [ -z "$left" ] || { ps -o pid,args -p $left; squeue -s; fail "slurmstepd left behind"; }
    [ -z "$(./cluster.sh pids "$CLUSTER" '^sleep 1000')" ] || fail "a modulefile's process outlived its step"
    return 0
}
