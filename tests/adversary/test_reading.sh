# test_reading.sh — what another user of the node can read of a running
# farm: not its records or join credentials, not its results' farm.access,
# not the environment (the keys) of any of its processes.

t_records_keys_and_environ_unreadable() {
    local cfg; cfg=$(lib_config reading slow_sphere)
    chmod 644 "$cfg"
    victim_farm reading "$cfg" 1 "$DRIVER" verify slow_sphere 2000 2
    local f p tried=0
    for f in "$RECORD" "$RECORD.join"; do
        as_adversary cat "$f" > /dev/null 2>&1 && fail "the adversary read $f"
        tried=$((tried + 1))
    done
    for p in $FARM_PID $(farm_tree "$FARM_PID"); do
        [ -e "/proc/$p/environ" ] || continue
        as_adversary cat "/proc/$p/environ" > /dev/null 2>&1 && fail "the adversary read /proc/$p/environ ($(tr '\0' ' ' < "/proc/$p/cmdline"))"
        tr '\0' ' ' < "/proc/$p/cmdline" | grep -qE '[A-Za-z0-9+/=.&-]{40}' && fail "a key on the command line of $p"
        tried=$((tried + 1))
    done
    [ $tried -ge 5 ] || fail "only $tried files tried"
    victim_done reading
}
