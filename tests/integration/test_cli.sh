# test_cli.sh — the command line: check, run's arguments, the built-in map
# driver, bad input handled with one clear line and exit status 2.

t_check_prints_resolved_config() {
    "$EVO" check "$ROOT/examples/map/evolution.yaml" > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "scheduling: dynamic"
    expect_in "$SCRATCH/out" "library: \"$ROOT/examples/map/../../build/examples/librastrigin.so\""
}

t_check_rejects_bad_yaml() {
    printf 'evaluate: {command: [x]}\nfarm:\n  retries: lots\n' > "$SCRATCH/bad.yaml"
    "$EVO" check "$SCRATCH/bad.yaml" > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
    [ $rc = 2 ] || fail "exit status not 2"
    expect_in "$SCRATCH/out" "$SCRATCH/bad.yaml:3:12: farm.retries: expected a whole number from 0 to 100, got 'lots'"
    [ "$(wc -l < "$SCRATCH/out")" = 1 ] || fail "more than one line"
    "$EVO" run "$SCRATCH/bad.yaml" -- true > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
    [ $rc = 2 ] || fail "run: exit status not 2"
    expect_in "$SCRATCH/out" "bad.yaml:3:12:"
}

t_bad_arguments() {
    local cfg; cfg=$(lib_config a sphere)
    for args in "run" "run $cfg -n 0" "run $cfg -n" "run $cfg --bogus" "run $cfg extra" "check" "frobnicate" \
                "run $cfg --"; do
        "$EVO" $args > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
        [ $rc = 2 ] || fail "'$args': exit status not 2"
        grep -q "^evo-farm: " "$SCRATCH/out" || fail "'$args': no message"
    done
    "$EVO" run "$cfg" > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
    [ $rc = 2 ] || fail "run without driver: exit status not 2"
    expect_in "$SCRATCH/out" "no driver: add an 'optimize:' section or give a command after --"
    "$EVO" --help | grep -q "usage: evo-farm run FILE" || fail "no help"
}

t_driver_exit_status_passes_through() {
    local cfg; cfg=$(lib_config a sphere)
    "$EVO" run "$cfg" -n 1 -q -- sh -c 'test -n "$EVO_FARM_ENDPOINT" && test "$EVO_FARM_WORKERS" = 1 && exit 7' && rc=0 || rc=$?
    [ $rc = 7 ] || fail "status not passed through"
    "$EVO" run "$cfg" -n 1 -q -- /nonexistent/driver 2> "$SCRATCH/out" && rc=0 || rc=$?
    [ $rc = 127 ] || fail "missing driver: status not 127"
    expect_in "$SCRATCH/out" "cannot run /nonexistent/driver"
}

t_builtin_map_driver() {
    cd "$SCRATCH" || return 1
    "$PY" - > vectors.txt <<'PY'
import math
print("# a comment, then 500 vectors of dimension 4")
for i in range(500):
    print(" ".join(repr(5.12 * math.sin(i * 13 + k)) for k in range(4)))
PY
    printf 'evaluate: {library: %s, function: rastrigin}\noptimize: {strategy: map, input: vectors.txt}\noutput: {dir: mapout}\n' \
        "$TESTLIB" > map.yaml
    "$EVO" run map.yaml -n 2 > log 2>&1 || fail "exit $?"
    expect_in log "map: results of 500 vectors in mapout/results.txt"
    "$PY" - <<'PY' || fail "results differ from a serial evaluation"
import math
xs = [[float(t) for t in l.split()] for l in open("vectors.txt") if not l.startswith("#")]
got = [float(l) for l in open("mapout/results.txt")]
def rastrigin(x):
    s = 10.0 * len(x)
    for v in x:
        s += v * v - 10.0 * math.cos(2.0 * math.pi * v)
    return s
assert len(got) == len(xs) == 500, (len(got), len(xs))
assert all(g == rastrigin(x) for g, x in zip(got, xs))
PY
    # A second run rewrites results.txt; a link planted in its place, or a
    # directory others may write, is refused and the link's target kept.
    "$EVO" run map.yaml -n 2 > log 2>&1 || fail "second run: exit $?"
    [ "$(wc -l < mapout/results.txt)" = 500 ] || fail "results.txt not rewritten"
    echo "the victim's file" > victim && rm mapout/results.txt && ln -s ../victim mapout/results.txt
    "$EVO" run map.yaml -n 1 > log 2>&1 && fail "wrote through a link"
    expect_in log "mapout/results.txt: is a symbolic link; refusing it"
    [ "$(cat victim)" = "the victim's file" ] || fail "the link's target was written"
    rm mapout/results.txt && chmod 0775 mapout
    "$EVO" run map.yaml -n 1 > log 2>&1 && fail "accepted a group-writable directory"
    expect_in log "results directory mapout may be written by group or others"
    chmod 0755 mapout
    printf '1 2 3 4\n1 2 x 4\n' > bad.txt
    sed -i 's/vectors.txt/bad.txt/' map.yaml
    "$EVO" run map.yaml -n 1 > log 2>&1 && rc=0 || rc=$?
    [ $rc = 2 ] || fail "bad input: exit status not 2"
    expect_in log "bad.txt:2: not a list of numbers"
}

# Every fixture in bad-yaml/ names the message it must give on its first line
# ("# expect: LINE:COL: message"): `check` and `run` exit 2 with exactly one
# line, FILE:LINE:COL: message. Then files that cannot be read at all.
t_bad_yaml_fixtures() {
    local f want count=0 rc
    for f in "$ROOT"/tests/integration/bad-yaml/*.yaml; do
        want="$f:$(head -1 "$f" | sed 's/^# expect: //')"
        rc=0; "$EVO" check "$f" > /dev/null 2> "$SCRATCH/out" || rc=$?
        [ $rc = 2 ] || fail "$f: check exited $rc, not 2"
        [ "$(wc -l < "$SCRATCH/out")" = 1 ] || fail "$f: not one line: $(cat "$SCRATCH/out")"
        grep -qF -- "$want" "$SCRATCH/out" || fail "$f: expected '$want', got '$(cat "$SCRATCH/out")'"
        rc=0; "$EVO" run "$f" -- true > /dev/null 2> "$SCRATCH/out" || rc=$?
        [ $rc = 2 ] && grep -qF -- "$want" "$SCRATCH/out" || fail "$f: run did not refuse it the same way"
        count=$((count + 1))
    done
    [ $count -ge 20 ] || fail "only $count fixtures"
    rc=0; "$EVO" check "$SCRATCH/missing.yaml" 2> "$SCRATCH/out" || rc=$?
    [ $rc = 2 ] || fail "missing file: exit $rc"
    expect_in "$SCRATCH/out" "$SCRATCH/missing.yaml: cannot open: No such file or directory"
    mkdir -p "$SCRATCH/dir.yaml"
    rc=0; "$EVO" check "$SCRATCH/dir.yaml" 2> "$SCRATCH/out" || rc=$?
    [ $rc = 2 ] || fail "directory: exit $rc"
    expect_in "$SCRATCH/out" "$SCRATCH/dir.yaml: cannot read: Is a directory"
}

# A file without evaluate: (even an empty one) is a Python driver's farm:
# the workers run calls with the driver's interpreter. Any other driver is
# told in one line what is missing.
t_python_driver_needs_no_evaluate() {
    printf 'farm: {heartbeat: 200ms}\n' > "$SCRATCH/noeval.yaml"
    : > "$SCRATCH/empty.yaml"
    cat > "$SCRATCH/squares.py" <<'PY'
from evofarm import futures
def square(x):
    return x * x
if __name__ == "__main__":
    print("squares", sum(futures.map(square, range(100))))
PY
    local f
    for f in noeval empty; do
        "$EVO" run "$SCRATCH/$f.yaml" -n 2 -- "$PY" "$SCRATCH/squares.py" > "$SCRATCH/out" 2>&1 ||
            { cat "$SCRATCH/out"; fail "$f.yaml with a Python driver failed"; }
        expect_in "$SCRATCH/out" "squares 328350"
    done
    "$EVO" check "$SCRATCH/empty.yaml" > "$SCRATCH/out" 2>&1 || fail "an empty file does not check"
    expect_in "$SCRATCH/out" "# evaluate: none given: a Python driver's own interpreter runs its calls"
    local rc=0
    "$EVO" run "$SCRATCH/noeval.yaml" -- /bin/true > "$SCRATCH/out" 2>&1 || rc=$?
    [ $rc = 2 ] || fail "a non-Python driver without evaluate: exited $rc"
    [ "$(wc -l < "$SCRATCH/out")" = 1 ] || { cat "$SCRATCH/out"; fail "not one line"; }
    expect_in "$SCRATCH/out" "noeval.yaml has no evaluate: section: say how the workers evaluate (library:, command: or python:), or run a Python driver"
}

# A local farm counts the CPUs it is given (taskset here; srun -c, a
# cpuset or a CPU quota at a site), never the machine's: on one CPU,
# `run` starts one worker.
t_workers_one_per_cpu_given() {
    local cfg; cfg=$(lib_config cpus sphere)
    taskset -c 0 "$EVO" run "$cfg" -- "$DRIVER" verify sphere 200 3 > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "200 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "1 worker connected at the end"
}

# The open-files limit: a soft limit below what the broker needs for its
# 40 workers but under a larger hard one is raised (every worker joins; the
# driver gets the limit it was given); a hard limit too small for the
# farm's -n is said in one line, naming it.
t_open_files_limit() {
    local cfg; cfg=$(lib_config files sleep_1ms)
    printf 'echo "driver limit $(ulimit -n)"\nexec "$@"\n' > "$SCRATCH/limit.sh"
    # 1 ms calls, 2.5 s of work for 40 workers: long enough for every one
    # to have joined before the map ends, on a loaded machine too
    (ulimit -Sn 30 && "$EVO" run "$cfg" -n 40 -- sh "$SCRATCH/limit.sh" "$DRIVER" verify sphere 100000 3) \
        > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "100000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "40 workers connected at the end"
    expect_in "$SCRATCH/out" "driver limit 30"
    local rc=0
    (ulimit -n 80 && "$EVO" run "$cfg" -n 40 -- "$DRIVER" verify sphere 200 3) > "$SCRATCH/out" 2>&1 || rc=$?
    [ "$rc" != 0 ] || fail "a farm of 40 workers ran in 80 descriptors"
    expect_in "$SCRATCH/out" "the open-files limit (ulimit -n) is 80, hard limit 80, and a farm of 41 members needs 105"
    [ "$(grep -c . "$SCRATCH/out")" = 1 ] || { cat "$SCRATCH/out"; fail "more than one line"; }
}
