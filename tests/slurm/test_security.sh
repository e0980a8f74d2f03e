# test_security.sh — keys in a step: rank 0 alone holds the driver key,
# the worker tasks of both nodes the worker and nested keys; strangers
# connecting to a step's farm are refused.

# Keys by role in a step: rank 0 alone gets the driver
# key, the worker tasks of both nodes the worker and nested keys, checked
# from inside the evaluators (tests/integration/roles.py), whose nested
# futures reach the step's farm over ZeroMQ with the nested key.
t_keys_by_role_in_a_step() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/roles.yaml"
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm=roles.yaml -N2 -n4 /usr/bin/python3 \
        "$ROOT/tests/integration/roles.py") > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    cat "$SCRATCH/out"
    expect_in "$SCRATCH/out" "roles ok"
    expect_in "$SCRATCH/out" "0 connections refused"
    expect_both_nodes "$SCRATCH/out"
}

t_strangers_refused_in_a_step() {
    (cd "$SCRATCH" && timeout -k 10 120 srun --evo-farm="$EXAMPLE" -N2 -n4 "$EVO" "$DRIVER" attack) \
        > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "srun exited $?"; }
    expect_in "$SCRATCH/out" "2000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/out" "mapdriver: auth_refused="
}
