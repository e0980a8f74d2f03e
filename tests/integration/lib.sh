# lib.sh — helpers for the integration tests: a scratch directory, config
# writing, and assertions that print what they compared.
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EVO="$ROOT/$BUILD/bin/evo-farm"
DRIVER="$ROOT/$BUILD/tests/mapdriver"
TESTLIB="$ROOT/$BUILD/examples/libtestfns.so"
FITNESS="$ROOT/tests/integration/fitness.py"
PY=$(command -v /usr/bin/python3 || command -v python3)
SCRATCH=$(mktemp -d /tmp/evo-farm-test.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
# The suite owns its world: a HOME of its own, so that the farm records and
# join credentials (~/.evo-farm) of whoever runs it are neither read nor
# written, and a mark in the environment of every process it starts, by
# which it finds its own processes (own_pids) and never another's. A CI
# runner may start it with no SHELL, which Slurm's interactive step
# (salloc under use_interactive_step) runs: the suite names one.
export HOME="$SCRATCH/home"
export SHELL=/bin/sh
mkdir -p "$HOME"
export EVO_TEST_MARK="evo-farm-test-$$-$RANDOM"

# own_pids REGEX — the PIDs of this suite's processes (their environment
# carries EVO_TEST_MARK) whose command line matches the extended REGEX.
own_pids() {
    local environ pid
    for environ in $(grep -lzxF -- "EVO_TEST_MARK=$EVO_TEST_MARK" /proc/[0-9]*/environ 2> /dev/null); do
        pid=${environ#/proc/}
        pid=${pid%/environ}
        [ "$pid" != "$BASHPID" ] || continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -Eq -- "$1" && echo "$pid"
    done
    return 0
}

# farm_tree RUNPID — RUNPID and every descendant of it (one ps: quick
# enough to signal a farm mid-run, as Slurm's proctrack does).
farm_tree() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END { for (p in parent) { q = p; while (q > 1 && q != root) q = parent[q]; if (q == root) print p } }'
}

# farm_defaults OPTIONS — ", timeout: 1s" unless OPTIONS set one, then OPTIONS
farm_defaults() {
    case "$1" in *timeout*) ;; *) printf ', timeout: 1s' ;; esac
    [ -n "$1" ] && printf ', %s' "$1"
}

# lib_config NAME FUNCTION [farm options]  — a library-evaluator config
lib_config() {
    cat > "$SCRATCH/$1.yaml" <<YAML
farm: {heartbeat: 200ms$(farm_defaults "${3:-}")}
evaluate: {library: $TESTLIB, function: $2, startup_timeout: 2s}
YAML
    echo "$SCRATCH/$1.yaml"
}

# cmd_config NAME MODE [farm options]  — a Python command-evaluator config
cmd_config() {
    cat > "$SCRATCH/$1.yaml" <<YAML
farm: {heartbeat: 200ms$(farm_defaults "${3:-}")}
evaluate: {command: [$PY, $FITNESS, $2], startup_timeout: 2s}
YAML
    echo "$SCRATCH/$1.yaml"
}

# wait_join_credential PID — the join credential of the farm `evo-farm run`
# PID keeps; its path in JOIN.
wait_join_credential() {
    local i id=""
    for i in $(seq 100); do
        id=$(ls "$HOME/.evo-farm/farms" 2> /dev/null | grep -- "-$1\$" || true)
        [ -n "$id" ] && [ -e "$HOME/.evo-farm/farms/$id.join" ] && break
        sleep 0.05
    done
    JOIN="$HOME/.evo-farm/farms/$id.join" FARM_ID=$id
    [ -n "$id" ] && [ -e "$JOIN" ] || fail "no join credential for farm $1"
}

# as_user CMD... — runs CMD as the suite's job user: whoever runs the
# integration suite; the Slurm suite's unprivileged user there
# (tests/slurm/user.sh redefines it).
as_user() { "$@"; }

# wait_workers FARM N [TRIES] — until `evo-farm status` counts N workers
# in FARM (TRIES tenths of a second at most, default 60); the count seen in
# WORKERS.
wait_workers() {
    local i
    WORKERS=0
    for i in $(seq "${3:-60}"); do
        WORKERS=$(as_user "$EVO" status --json "$1" 2> /dev/null | sed -nE 's/.*"workers": ([0-9]+), "drivers".*/\1/p')
        [ "${WORKERS:-0}" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

fail() { echo "    FAIL: $*"; return 1; }

# expect_in FILE TEXT — the file must contain TEXT
expect_in() { grep -qF -- "$2" "$1" || { echo "    --- $1:"; sed 's/^/    /' "$1" | tail -15; fail "'$2' not found"; }; }

# test_watchdog SECONDS — after SECONDS, marks the running test as overrun
# ($SCRATCH/.overran) and kills it (its subshell's PID is in .test-pid)
# with every process it started (srun among them: Slurm then ends their
# steps), so that a test that hangs fails alone instead of stopping the
# suite, and CI, for good. Ends quietly on SIGTERM: the test ended in time.
# The test runs in the foreground, so that what it starts gets SIGINT and
# SIGQUIT as from a shell (bash makes asynchronous commands ignore them).
test_watchdog() {
    local nap
    sleep "$1" &
    nap=$!
    trap 'kill $nap 2> /dev/null; exit 0' TERM
    wait $nap
    touch "$SCRATCH/.overran"
    # shellcheck disable=SC2046 # one PID per word
    kill -KILL $(farm_tree "$(cat "$SCRATCH/.test-pid")") 2> /dev/null
    return 0
}

# run_tests SUITE — runs every function named t_* (each in a subshell with
# errexit, so any failed assertion fails the test) and reports them all;
# TESTS=REGEX runs only the tests whose names match; VERBOSE=1 shows what
# passing tests printed. They run in the order of their names, or in that of
# TEST_ORDER where the caller sets it (names separated by white space), which
# must then name every t_* function once and nothing else (test_order_ok).
# A test still running after TEST_LIMIT seconds (default 300) is killed and
# fails; the suite's on_test_overrun NAME, where it defines one, then adds
# what tells why (the Slurm suite: the queue and the daemons' logs).
# Call it as a plain command: inside an if condition or an && / || list
# bash ignores errexit in everything it runs, and it refuses to run then.
run_tests() {
    local pass=0 failed=() t start rc probe order dog
    probe=$(set -e; false; echo ignored)
    [ -z "$probe" ] || { echo "$1: run_tests was called where bash ignores errexit"; return 1; }
    if [ -n "${TEST_ORDER:-}" ]; then
        test_order_ok || { echo "$1: no test run: TEST_ORDER does not name exactly the t_* functions"; return 1; }
        order=$(printf '%s\n' $TEST_ORDER)
    else
        order=$(declare -F | awk '{print $3}' | grep '^t_')
    fi
    for t in $(echo "$order" | grep -E -- "${TESTS:-.}"); do
        start=$(date +%s%N)
        rm -f "$SCRATCH/.overran" "$SCRATCH/.test-pid"
        test_watchdog "${TEST_LIMIT:-300}" &
        dog=$!
        { (echo "$BASHPID" > "$SCRATCH/.test-pid"; set -e; "$t") > "$SCRATCH/.log" 2>&1; } 2> /dev/null
        rc=$?
        kill $dog 2> /dev/null
        wait $dog 2> /dev/null
        if [ -e "$SCRATCH/.overran" ]; then
            rc=1
            echo "    FAIL: still running after ${TEST_LIMIT:-300} s: killed with all it started" >> "$SCRATCH/.log"
            ! declare -F on_test_overrun > /dev/null || on_test_overrun "$t" >> "$SCRATCH/.log" 2>&1
        fi
        if [ $rc -eq 0 ]; then
            pass=$((pass + 1))
            printf 'PASS %-32s %6d ms\n' "$t" $(( ($(date +%s%N) - start) / 1000000 ))
            [ -z "${VERBOSE:-}" ] || sed 's/^/    /' "$SCRATCH/.log"
        else
            failed+=("$t")
            printf 'FAIL %-28s\n' "$t"
            sed 's/^/    /' "$SCRATCH/.log" | tail -"$([ -e "$SCRATCH/.overran" ] && echo 100 || echo 40)"
        fi
    done
    echo "$1: ${pass} passed, ${#failed[@]} failed${failed:+: ${failed[*]}}"
    [ ${#failed[@]} -eq 0 ]
}

# test_order_ok — whether TEST_ORDER names every function t_* once and
# nothing else; a FAIL line for each t_* it leaves out (which would never
# run), each name that is no t_* function and each name given twice.
test_order_ok() {
    local t bad=0 seen=" "
    for t in $TEST_ORDER; do
        case "$seen" in *" $t "*) echo "FAIL TEST_ORDER names $t twice"; bad=1 ;; esac
        seen="$seen$t "
        case "$t" in
        t_*) declare -F -- "$t" > /dev/null || { echo "FAIL TEST_ORDER names $t, which is not defined"; bad=1; } ;;
        *) echo "FAIL TEST_ORDER names $t, which is not a t_* function"; bad=1 ;;
        esac
    done
    for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
        case "$seen" in *" $t "*) ;; *) echo "FAIL $t is not in TEST_ORDER (it would never run)"; bad=1 ;; esac
    done
    return $bad
}
