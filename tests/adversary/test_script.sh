# test_script.sh — the workers import the driver's script by its path, on
# their own node, with its directory first on sys.path: what sits at that
# path, or beside it, must be the driver's and nobody else's.

# python_config NAME — a Python-evaluator config
python_config() {
    printf 'farm: {heartbeat: 200ms, timeout: 10s}\nevaluate: {python: %s}\n' "$PY" > "$SCRATCH/$1.yaml"
    echo "$SCRATCH/$1.yaml"
}

# A module planted beside a script in a directory anyone may write (/tmp,
# /dev/shm, a node's scratch) is never imported by a worker.
t_planted_module_beside_the_script_never_runs() {
    cat > "$SHARED/evolve.py" <<'PY'
from evofarm import futures

def fitness(x):
    import colorsys  # found first in the script's directory, where anyone may write
    return x * 2

if __name__ == "__main__":
    try:
        print("sum", sum(futures.map(fitness, range(4))))
    except ImportError as e:
        print("refused:", e)
PY
    chown "$TEST_USER:" "$SHARED/evolve.py"
    as_adversary sh -c "printf 'import os\nopen(\"$SHARED/pwned\", \"w\").write(str(os.getuid()))\n' > '$SHARED/colorsys.py'"
    local cfg; cfg=$(python_config module)
    as_user "$EVO" run "$cfg" -n 1 -- "$PY" "$SHARED/evolve.py" > "$SCRATCH/module.out" 2>&1 ||
        fail "the run failed: $(tail -5 "$SCRATCH/module.out")"
    [ ! -e "$SHARED/pwned" ] || fail "the planted module ran as uid $(cat "$SHARED/pwned")"
    expect_in "$SCRATCH/module.out" "refused: the driver's script $SHARED/evolve.py: a worker will not import it"
    expect_in "$SCRATCH/module.out" "any user may write it"
}

# A worker whose node has another file at the driver's path (planted
# there, or the script changed since the driver read it) refuses it.
t_a_script_that_is_not_the_drivers_never_runs() {
    user_dir "$SCRATCH/victim"
    cat > "$SCRATCH/victim/evolve.py" <<'PY'
import os, sys, time
from evofarm import _calls, futures

def fitness(x):
    return x * 2

if __name__ == "__main__":
    # what the driver read: its calls carry its digest (getattr: a tree before the digest runs the test too)
    getattr(_calls, "script_digest", lambda path: None)(_calls.main_path())
    open(sys.argv[1], "w").close()
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.05)
    try:
        print("sum", sum(futures.map(fitness, range(4))))
    except ImportError as e:
        print("refused:", e)
PY
    chown "$TEST_USER:" "$SCRATCH/victim/evolve.py"
    local cfg i; cfg=$(python_config script)
    # no import ahead (EVO_FARM_PYTHON_MAIN set and empty): the workers read the file at the first call
    EVO_FARM_PYTHON_MAIN= as_user "$EVO" run "$cfg" -n 1 -- "$PY" "$SCRATCH/victim/evolve.py" \
        "$SCRATCH/victim/read" "$SCRATCH/victim/planted" > "$SCRATCH/script.out" 2>&1 &
    local runpid=$!
    for i in $(seq 200); do
        [ -e "$SCRATCH/victim/read" ] && break
        sleep 0.05
    done
    [ -e "$SCRATCH/victim/read" ] || fail "the driver never started: $(cat "$SCRATCH/script.out")"
    # what another node's file at that path would hold
    printf 'import os\nopen("%s/pwned", "w").write(str(os.getuid()))\ndef fitness(x):\n    return 0\n' \
        "$SCRATCH/victim" > "$SCRATCH/victim/evolve.py"
    touch "$SCRATCH/victim/planted"
    wait $runpid || fail "the run failed: $(tail -5 "$SCRATCH/script.out")"
    [ ! -e "$SCRATCH/victim/pwned" ] || fail "a script that is not the driver's ran"
    expect_in "$SCRATCH/script.out" "refused: the driver's script $SCRATCH/victim/evolve.py on $(hostname) is not the driver's"
}
