# test_map.sh — maps return every result, in order, equal to a serial
# evaluation; failures are reported per task while the rest completes.
# expect_failures CONFIG N FAILED TEXT — a 2-worker map of N sphere vectors
# through CONFIG: exactly FAILED of them (x[0] < 0) fail with TEXT, the rest
# are right.
expect_failures() {
    "$EVO" run "$1" -n 2 -- "$DRIVER" failures sphere "$2" 3 "$4" > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "$2 results, $3 failed, all as expected"
}


t_library_100k_in_order() {
    local cfg; cfg=$(lib_config lib rastrigin)
    "$EVO" run "$cfg" -n 2 -- "$DRIVER" verify rastrigin 100000 10 > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "mapdriver: 100000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "evo-farm: 100000 evaluations done, 0 failed"
}

t_command_100k_in_order() {
    local cfg; cfg=$(cmd_config cmd rastrigin)
    "$EVO" run "$cfg" -n 2 -- "$DRIVER" verify rastrigin 100000 10 > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "mapdriver: 100000 results, 0 failed, all as expected"
}

t_submit_wait_unordered() {
    local cfg; cfg=$(lib_config lib rastrigin "batch: 7")
    "$EVO" run "$cfg" -n 3 -- "$DRIVER" submit rastrigin 20000 6 > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "submit/wait: all as expected"
}

t_static_scheduling() {
    local cfg; cfg=$(lib_config st sphere "scheduling: static")
    "$EVO" run "$cfg" -n 2 -- "$DRIVER" verify sphere 5000 3 > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "5000 results, 0 failed, all as expected"
}

t_always_failing_task_library() {
    local cfg; cfg=$(lib_config f fail_if_negative "retries: 2")
    expect_failures "$cfg" 700 100 "after 3 attempts: library function returned -1: x[0] is negative"
    expect_in "$SCRATCH/out" "600 evaluations done, 100 failed, 200 retried"
}

t_always_failing_task_command() {
    local cfg; cfg=$(cmd_config f fail_if_negative "retries: 1")
    expect_failures "$cfg" 700 100 "after 2 attempts: evaluator reported: x[0] is negative"
}

t_hanging_evaluator_library() {
    local cfg; cfg=$(lib_config h hang_if_negative "timeout: 300ms")
    expect_failures "$cfg" 30 4 "evaluation timed out after 0.3s"
}

t_hanging_evaluator_command() {
    local cfg; cfg=$(cmd_config h hang_if_negative "timeout: 300ms")
    expect_failures "$cfg" 30 4 "evaluation timed out after 0.3s"
}

t_crashing_evaluator() {
    local cfg; cfg=$(lib_config c crash_if_negative)
    expect_failures "$cfg" 300 43 "evaluator killed by signal 11"
    cfg=$(cmd_config c crash_if_negative)
    expect_failures "$cfg" 100 14 "evaluator exited with status 3"
}

t_invalid_evaluator_output() {
    local cfg; cfg=$(cmd_config g garbage_if_negative)
    expect_failures "$cfg" 300 43 "invalid evaluator output (not a number): 'Traceback (most recent call last): oops'"
    cfg=$(lib_config w wrong_count)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 10 2 > "$SCRATCH/out" 2>&1 && fail "wrong count accepted"
    expect_in "$SCRATCH/out" "library function returned 2 objectives, expected 1"
}

t_misconfigured_evaluators() {
    local cfg="$SCRATCH/nolib.yaml"
    printf 'farm: {retries: 0}\nevaluate: {library: /nonexistent.so, function: f}\n' > "$cfg"
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 3 2 > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "task 0 failed after 1 attempt: cannot load library: /nonexistent.so: cannot open shared object file"
    printf 'farm: {retries: 0}\nevaluate: {library: %s, function: nosuch}\n' "$TESTLIB" > "$cfg"
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 3 2 > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "has no function 'nosuch'"
    printf 'farm: {retries: 0}\nevaluate: {command: [/nonexistent/fitness]}\n' > "$cfg"
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 3 2 > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "cannot start evaluator '/nonexistent/fitness'"
    expect_in "$SCRATCH/out" "No such file or directory"
}
