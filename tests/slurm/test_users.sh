# test_users.sh — the job user's reach. Every job of this suite runs as an
# unprivileged user (user.sh); here, what that user may not use is refused
# in one line before anything of theirs runs — a venv in a directory only
# root may enter, a results directory and a journal another user owns — and
# what other users may not see of a running farm: its keys travel in the
# tasks' environment, which /proc shows to their owner alone, and never on
# a command line, which /proc shows to everyone.

# root_only DIR — a directory only root may enter: another user's, to the
# job user.
root_only() { mkdir -p "$1" && chown root: "$1" && chmod 700 "$1"; }

# The venv check runs as the job user on every node (user_init), so a venv
# root can see but the user cannot is refused, saying why, not run with.
t_venv_out_of_the_users_reach_refused() {
    root_only "$SCRATCH/rootonly"
    "$PY" -m venv --without-pip "$SCRATCH/rootonly/venv"
    printf 'evaluate: {command: [x]}\nenvironment: {venv: %s/rootonly/venv}\n' "$SCRATCH" > "$SCRATCH/rv.yaml"
    expect_refused rootvenv "environment.venv $SCRATCH/rootonly/venv is out of $TEST_USER's reach on node" \
        --evo-farm=rv.yaml -N2 -n2
    expect_in "$SCRATCH/rootvenv.out" "Permission denied"
}

# the built-in CMA-ES, a few generations, its output: section in $1
cmaes_config() {
    cat > "$SCRATCH/$2.yaml" <<YAML
evaluate: {library: $TESTLIB, function: sphere}
optimize: {strategy: cma-es, dimension: 4, centroid: 3.0, sigma: 2.0, lambda: 8, generations: 5, seed: 3}
output: {$1}
YAML
}

# A results directory or a journal that another user owns, or may write,
# is refused: anyone who may write there could plant a link, or answers
# that the farm would serve as its own (a Python driver unpickles them).
# Root's own, and a journal planted in a world-writable directory, are
# each refused with the line that names them, and the planted journal is
# neither read nor written.
t_results_and_journal_of_another_user_refused() {
    mkdir -p "$SCRATCH/theirs" "$SCRATCH/planted" && chmod 755 "$SCRATCH/theirs" && chmod 1777 "$SCRATCH/planted"
    cmaes_config "dir: $SCRATCH/theirs" theirs
    (cd "$SCRATCH" && timeout -k 10 60 srun --evo-farm=theirs.yaml -N2 -n3 "$EVO") > "$SCRATCH/theirs.out" 2>&1 &&
        { cat "$SCRATCH/theirs.out"; fail "a results directory of root's was accepted"; }
    expect_in "$SCRATCH/theirs.out" "results directory $SCRATCH/theirs is owned by another user"
    cat "$SCRATCH/theirs.out"
    grep -qE "[1-9][0-9]* evaluations done" "$SCRATCH/theirs.out" && fail "the refused farm evaluated"
    [ -z "$(ls "$SCRATCH/theirs")" ] || fail "something was written in root's directory"
    # a journal another user planted, in a directory anyone may write
    mkdir -p "$SCRATCH/planted/journal"
    printf 'planted\n' > "$SCRATCH/planted/journal/journal"
    chmod 777 "$SCRATCH/planted/journal" && chmod 666 "$SCRATCH/planted/journal/journal"
    cmaes_config "dir: results-j, journal: $SCRATCH/planted/journal" planted
    # (refused on rank 0 before the wire-up: the workers waiting at the
    # fence are told, and the step ends by itself, not when timeout kills it)
    local rc=0
    (cd "$SCRATCH" && timeout -k 10 60 srun --evo-farm=planted.yaml -N2 -n3 "$EVO") > "$SCRATCH/planted.out" 2>&1 || rc=$?
    [ $rc != 0 ] || { cat "$SCRATCH/planted.out"; fail "a planted journal was accepted"; }
    [ "$rc" != 124 ] || { cat "$SCRATCH/planted.out"; fail "the refused step did not end by itself"; }
    expect_in "$SCRATCH/planted.out" "journal directory $SCRATCH/planted/journal is owned by another user"
    cat "$SCRATCH/planted.out"
    [ "$(cat "$SCRATCH/planted/journal/journal")" = planted ] || fail "the planted journal was written"
}

# While a step runs on both nodes: no other user reads a task's
# environment (the farm's keys), and no key is on any command line of the
# step's processes (readable by every user in /proc).
t_keys_hidden_from_other_users() {
    local cfg; cfg=$(lib_config procs slow_sphere)
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm="$cfg" -N2 -n3 "$EVO" "$DRIVER" verify slow_sphere 1500 3) \
        > "$SCRATCH/out" 2>&1 &
    local srun_pid=$! tasks="" p secrets="" secret checked=0
    for _ in $(seq 200); do
        tasks=$(worker_tasks '^EVO_FARM_')
        [ "$(echo $tasks | wc -w)" -ge 3 ] && break
        sleep 0.05
    done
    [ "$(echo $tasks | wc -w)" -ge 3 ] || { wait $srun_pid; fail "the step's 3 tasks were not found"; }
    for p in $tasks; do
        secrets+=" $(tr '\0' '\n' < "/proc/$p/environ" | sed -n 's/^[A-Z_]*_SECRET=//p')"
    done
    [ -n "${secrets// /}" ] || fail "no key found in the tasks' environment"
    for p in $(./cluster.sh pids "$CLUSTER" .); do
        [ "$(stat -c %U "/proc/$p" 2> /dev/null)" = "$TEST_USER" ] || continue
        setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$p/environ" > /dev/null 2>&1 &&
            fail "another user read the environment of $p ($(tr '\0' ' ' < "/proc/$p/cmdline"))"
        for secret in $secrets; do
            grep -qF -- "$secret" "/proc/$p/cmdline" 2> /dev/null && fail "a key is on the command line of $p"
        done
        checked=$((checked + 1))
    done
    wait $srun_pid || { tail "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "1500 results, 0 failed, all as expected"
    echo "$checked processes of $TEST_USER checked"
    [ $checked -ge 6 ] || fail "only $checked processes of the step checked (tasks and evaluators: 6 at least)"
}
