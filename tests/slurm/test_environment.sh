# test_environment.sh — a farm's environment: section in every task of a
# step on both nodes: a venv (and the line naming one that is missing) and
# modules with environment.env (and the line naming a module that fails).

t_venv_reaches_every_task() {
    "$PY" -m venv --without-pip "$SCRATCH/venv"
    cat > "$SCRATCH/venv.yaml" <<YAML
evaluate: {command: [python3, $FITNESS, slow_prefix]}
environment: {venv: $SCRATCH/venv}
YAML
    # fitness.py "slow_prefix" answers len(sys.prefix): every result must be
    # the venv's (10 ms each, so the tasks of both nodes have joined by then).
    (cd "$SCRATCH" && timeout -k 10 60 srun --evo-farm=venv.yaml -N2 -n4 "$EVO" "$DRIVER" constant 200 2 \
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
    user_dir "$SCRATCH/modenv"
    cat > "$SCRATCH/mod.yaml" <<YAML
farm: {batch: 1}
evaluate: {command: [sh, -c, 'while read x; do echo "\$(hostname) \$EVO_TESTMOD \$EVO_TESTMOD_PATH \$EVO_EXTRA \$OMP_NUM_THREADS" > $SCRATCH/modenv/\$\$; echo 0; done']}
environment: {modules: [testmod], env: {EVO_EXTRA: {prepend: /x}}}
YAML
    (cd "$SCRATCH" && timeout -k 10 60 srun --evo-farm=mod.yaml -N2 -n4 "$EVO" sh -c 'echo "driver $(hostname) $EVO_TESTMOD $EVO_TESTMOD_PATH $EVO_EXTRA $OMP_NUM_THREADS"; '"$DRIVER"' constant 300 2 0') \
        > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "srun exited $?"; }
    expect_in "$SCRATCH/out" "driver node1 loaded /opt/testmod/bin /x 1"
    expect_in "$SCRATCH/out" "300 results, all equal to 0"
    [ "$(cat "$SCRATCH"/modenv/* | grep -c "loaded /opt/testmod/bin /x 1")" = 3 ] ||
        { cat "$SCRATCH"/modenv/*; fail "not every worker task saw the module"; }
    grep -q "node2 loaded" "$SCRATCH"/modenv/* || fail "node2 did not get the module"
    printf 'evaluate: {command: [x]}\nenvironment: {modules: [testmod, nosuchmod]}\n' > "$SCRATCH/mod.yaml"
    (cd "$SCRATCH" && srun --evo-farm=mod.yaml -N2 -n2 true) > "$SCRATCH/out" 2>&1 && fail "accepted"
    # the module system's reason on the same line (Lmod's paragraph joined)
    grep -E "module load testmod nosuchmod failed on node[12]: .*nosuchmod" "$SCRATCH/out" ||
        { cat "$SCRATCH/out"; fail "no one line naming the failed module and why"; }
}

# A module that puts its own libzmq first on LD_LIBRARY_PATH (standinzmq:
# a stand-in libzmq.so.5 that has none of CURVE or the rest): evo-farm, its
# library under the Python driver and its workers still run with the
# libraries they were built with (DT_RPATH, searched before
# LD_LIBRARY_PATH), while the driver's environment is the module's.
t_module_libraries_do_not_replace_evo_farms() {
    local dir="$SCRATCH/standin"
    user_dir "$dir"
    printf 'int zmq_has(const char *what) { (void)what; return 0; }\n' > "$dir/zmq.c"
    gcc -shared -fPIC -Wl,-soname,libzmq.so.5 -o "$dir/libzmq.so.5" "$dir/zmq.c" || fail "cannot build the stand-in"
    printf 'evaluate: {python: /usr/bin/python3}\nenvironment: {modules: [standinzmq]}\n' > "$SCRATCH/standin.yaml"
    cat > "$SCRATCH/standin.py" <<'PY'
import os
from evofarm import futures
def sq(x):
    return x * x
if __name__ == "__main__":
    print("driver LD_LIBRARY_PATH", os.environ.get("LD_LIBRARY_PATH"))
    assert list(futures.map(sq, range(200))) == [x * x for x in range(200)]
    print("200 squares right")
PY
    local rc=0
    (cd "$SCRATCH" && EVO_STANDIN_DIR=$dir timeout -k 10 60 srun --evo-farm=standin.yaml -N2 -n3 /usr/bin/python3 standin.py) \
        > "$SCRATCH/out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
    expect_in "$SCRATCH/out" "driver LD_LIBRARY_PATH $dir"
    expect_in "$SCRATCH/out" "200 squares right"
    expect_in "$SCRATCH/out" "2 workers connected at the end"
}

# Modules under --export=NONE: the task has no MODULEPATH of the user's,
# and neither Tcl's nor Lmod's init/bash names the site's module
# directories, so `module load` finds nothing. A site's modules_init= that
# sets MODULEPATH and then sources the module system's init makes it work
# (docs/slurm.md, "Module systems"); the load then reaches every task.
t_modules_under_export_none() {
    local stack="$CLUSTER/etc/plugstack.conf" saved rc=0
    saved=$(cat "$stack")
    printf 'evaluate: {command: [sh, -c, "while read x; do echo 0; done"]}\nenvironment: {modules: [testmod]}\n' \
        > "$SCRATCH/none-mod.yaml"
    cat > "$SCRATCH/site-modules.sh" <<SH
# a site's modules_init: its module directories, then the module system's init
export MODULEPATH=$ROOT/tests/slurm/modules
for init in /usr/share/modules/init/bash /usr/share/lmod/lmod/init/bash; do
    if [ -r "\$init" ]; then . "\$init"; break; fi
done
SH
    chmod 644 "$SCRATCH/site-modules.sh"
    expect_refused none-without-site "module load testmod failed on node" --export=NONE --evo-farm=none-mod.yaml -N2 -n2
    echo "$saved modules_init=$SCRATCH/site-modules.sh" > "$stack"
    (cd "$SCRATCH" && timeout -k 10 60 srun --export=NONE --evo-farm=none-mod.yaml -N2 -n3 "$EVO" \
        sh -c 'echo "driver $EVO_TESTMOD"; exec "$0" constant 100 2 0' "$DRIVER") > "$SCRATCH/out" 2>&1 || rc=$?
    echo "$saved" > "$stack"
    [ "$rc" = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
    expect_in "$SCRATCH/out" "driver loaded"
    expect_in "$SCRATCH/out" "100 results, all equal to 0"
}
