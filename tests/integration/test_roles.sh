# test_roles.sh — credentials by role (wire/credentials.h):
# the worker key of a farm's join credential cannot submit (refused per
# task and counted), and no evaluator or worker holds the driver's key,
# checked from inside the evaluators, over ZeroMQ and over the local
# socket, while futures nested in those calls still reach the farm with
# the nested key.

t_worker_key_cannot_submit() {
    local cfg; cfg=$(lib_config wk slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 3000 3 > "$SCRATCH/wk.out" 2>&1 &
    local runpid=$!
    wait_join_credential $runpid
    local ep server public secret driver_public
    ep=$(sed -n 's/^endpoints //p' "$JOIN" | cut -d, -f1) server=$(sed -n 's/^server //p' "$JOIN")
    public=$(sed -n 's/^public //p' "$JOIN") secret=$(sed -n 's/^secret //p' "$JOIN")
    driver_public=$(tr '\0' '\n' < "/proc/$(pgrep -P $runpid -f mapdriver)/environ" |
        sed -n 's/^EVO_FARM_CLIENT_PUBLIC=//p')
    [ -n "$driver_public" ] && [ "$public" != "$driver_public" ] || fail "the join credential holds the driver's key"
    grep -q "^nested_public " "$JOIN" || fail "the join credential has no nested key"
    EVO_FARM_UNIX_SOCKET= EVO_FARM_ENDPOINT="$ep" EVO_FARM_SERVER_KEY="$server" EVO_FARM_CLIENT_PUBLIC="$public" \
        EVO_FARM_CLIENT_SECRET="$secret" "$DRIVER" verify sphere 5 2 > "$SCRATCH/out" 2>&1 &&
        fail "a client with the worker key submitted"
    expect_in "$SCRATCH/out" "worker key, which may only take work and return results"
    "$EVO" status --json "$FARM_ID" > "$SCRATCH/json" || fail "status failed"
    "$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['refused'] >= 1, s" "$SCRATCH/json" ||
        fail "the refusal was not counted: $(cat "$SCRATCH/json")"
    wait $runpid || { tail -5 "$SCRATCH/wk.out"; fail "the farm failed"; }
    expect_in "$SCRATCH/wk.out" "3000 results, 0 failed, all as expected"
}

# tests/integration/roles.py as the driver: no evaluator or worker holds
# its key, nested futures reach the farm with the nested key.
t_evaluators_hold_no_driver_key() {
    printf 'farm: {heartbeat: 200ms}\nevaluate: {python: %s}\n' "$PY" > "$SCRATCH/roles.yaml"
    local local_socket
    for local_socket in no yes; do # "no": everyone over ZeroMQ with CURVE, the nested calls too
        (
            cd "$SCRATCH"
            [ $local_socket = yes ] || export EVO_FARM_UNIX_SOCKET=
            PYTHONPATH="$ROOT/python" exec "$EVO" run roles.yaml -n 2 -- "$PY" "$ROOT/tests/integration/roles.py"
        ) > "$SCRATCH/roles.out" 2>&1 || { tail -20 "$SCRATCH/roles.out"; fail "the farm failed (Unix socket: $local_socket)"; }
        expect_in "$SCRATCH/roles.out" "roles ok"
        expect_in "$SCRATCH/roles.out" "0 connections refused"
    done
}
