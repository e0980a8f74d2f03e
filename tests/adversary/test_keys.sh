# test_keys.sh — what a key may do is its role's and nothing more, however
# its holder dresses its messages: the status key the victim shares with a
# colleague reads statistics and nothing else, the control key drains and
# cannot submit, and no ZeroMQ peer becomes a member of the broker's own
# machine by taking the routing id the broker gives one (00 ff 'S' n).

t_each_key_does_only_its_roles_work() {
    local cfg; cfg=$(lib_config roles slow_sphere)
    chmod 644 "$cfg"
    victim_farm roles "$cfg" 1 "$DRIVER" verify slow_sphere 2000 2
    local rec=$SCRATCH/adversary/roles.record out
    probe submit "$rec" status > "$SCRATCH/roles.status" &
    probe submit "$rec" control > "$SCRATCH/roles.control" &
    PROBE_WAIT=2 probe drain "$rec" status "$(hostname)" > "$SCRATCH/roles.drain" &
    probe submit "$SCRATCH/adversary/roles.join" worker > "$SCRATCH/roles.worker" &
    wait $(jobs -p | grep -vx "$FARM_PID")
    out=$(cat "$SCRATCH/roles.status")
    case "$out" in "refused: "*"status key"*) ;; *) fail "the status key submitted: $out" ;; esac
    out=$(cat "$SCRATCH/roles.control")
    case "$out" in "refused: "*"control key"*) ;; *) fail "the control key submitted: $out" ;; esac
    out=$(cat "$SCRATCH/roles.drain")
    [ "$out" = silent ] || fail "the status key drained: $out"
    out=$(cat "$SCRATCH/roles.worker")
    case "$out" in "refused: "*"worker key"*) ;; *) fail "the worker key submitted: $out" ;; esac
    cat "$SCRATCH"/roles.status "$SCRATCH"/roles.control "$SCRATCH"/roles.drain "$SCRATCH"/roles.worker
    [ "$(farm_counter roles refused)" -ge 4 ] || fail "refusals not counted: $(farm_counter roles refused)"
    victim_done roles
    expect_in "$SCRATCH/roles.out" "2000 evaluations done"
}

t_forged_local_routing_ids_refused() {
    local cfg; cfg=$(lib_config forged slow_sphere)
    chmod 644 "$cfg"
    victim_farm forged "$cfg" 1 "$DRIVER" verify slow_sphere 2000 2
    local n out
    for n in 00000000 01000000 02000000 03000000; do # stream ids: 00 ff 'S', then a u32 counter
        PROBE_WAIT=1 probe submit "$SCRATCH/adversary/forged.record" status "00ff53$n" > "$SCRATCH/forged.$n" &
    done
    wait $(jobs -p | grep -vx "$FARM_PID")
    for n in 00000000 01000000 02000000 03000000; do
        out=$(cat "$SCRATCH/forged.$n")
        case "$out" in "refused: "* | silent) ;; *) fail "a SUBMIT with the id 00ff53$n was answered: $out" ;; esac
    done
    [ "$(farm_counter forged refused)" -ge 4 ] || fail "forged ids not refused: $(farm_counter forged refused) refused"
    victim_done forged
    # before the fix the forged SUBMITs were queued as the local driver's
    expect_in "$SCRATCH/forged.out" "2000 evaluations done"
}

t_escapes_in_a_hello_never_reach_status() {
    local cfg; cfg=$(lib_config escapes slow_sphere)
    chmod 644 "$cfg"
    victim_farm escapes "$cfg" 1 "$DRIVER" verify slow_sphere 2000 2
    # a worker key (a compromised worker host) names its host with a terminal escape
    local out; out=$(probe hello "$SCRATCH/adversary/escapes.join" worker "1b5d303b6f776e65640768")
    echo "hello with an escape in its host: $out"
    [ "$out" = refused ] || fail "a HELLO whose host holds an escape was $out"
    as_user "$EVO" status "$(basename "$RECORD")" > "$SCRATCH/escapes.status" 2>&1 || true
    ! grep -q $'\x1b' "$SCRATCH/escapes.status" "$SCRATCH/escapes.out" || fail "an escape sequence reached status or the log"
    victim_done escapes
}
