# test_security.sh — a client with the wrong credentials, a raw TCP client
# sending garbage and a member sending malformed frames are refused, while
# the farm keeps serving the legitimate driver (tests/integration/mapdriver.c).

t_strangers_refused() {
    local cfg; cfg=$(lib_config sec rastrigin)
    "$EVO" run "$cfg" -n 2 -- "$DRIVER" attack > "$SCRATCH/out" 2>&1 || fail "exit $?"
    expect_in "$SCRATCH/out" "2000 results, 0 failed, all as expected"
    grep -q "mapdriver: auth_refused=[1-9][0-9]* malformed=[7-9]" "$SCRATCH/out" || fail "counters missing"
}

t_credentials_not_on_command_line() {
    # Keys travel in the environment (readable by the owner only), never argv.
    local cfg; cfg=$(lib_config cl slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 300 2 > "$SCRATCH/out" 2>&1 &
    local runpid=$! found=0
    sleep 0.3
    for p in $(pgrep -f "__worker $cfg"); do
        tr '\0' ' ' < "/proc/$p/cmdline" | grep -q "EVO_FARM\|[A-Za-z0-9]\{40\}" && found=1
        [ "$(stat -c %a "/proc/$p/environ")" = 400 ] || fail "environ of $p is not 0400"
    done
    wait "$runpid" || fail "run failed"
    [ $found = 0 ] || fail "a key is visible on a command line"
}
