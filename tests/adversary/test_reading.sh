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
    # The farm's own keys, as its records hold them: a long path on the
    # command line is no key, so match the keys themselves.
    local keys=$SCRATCH/reading.keys
    awk '$1 ~ /^(server|public|secret|[a-z]+_public|[a-z]+_secret)$/ && length($2) == 40 { print $2 }' \
        "$RECORD" "$RECORD.join" > "$keys"
    [ "$(wc -l < "$keys")" -ge 4 ] || fail "only $(wc -l < "$keys") keys in the records: $(cut -d' ' -f1 "$RECORD" "$RECORD.join" | tr '\n' ' ')"
    for p in $FARM_PID $(farm_tree "$FARM_PID"); do
        [ -e "/proc/$p/environ" ] || continue
        as_adversary cat "/proc/$p/environ" > /dev/null 2>&1 && fail "the adversary read /proc/$p/environ ($(tr '\0' ' ' < "/proc/$p/cmdline"))"
        tr '\0' '\n' < "/proc/$p/cmdline" | grep -qFf "$keys" && fail "a key on the command line of $p ($(tr '\0' ' ' < "/proc/$p/cmdline"))"
        tried=$((tried + 1))
    done
    [ $tried -ge 5 ] || fail "only $tried files tried"
    victim_done reading
}
