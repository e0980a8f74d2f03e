# test_socket.sh — the members on the broker's machine reach it over a Unix
# socket by its path: a socket another user made at that path (first, or
# after the broker removed its own) is never taken for the broker. A
# member refuses a socket whose directory is not its own alone, and a
# listener of another uid even in a directory of its own.

# refused_socket NAME PATH TEXT — the victim's driver, pointed at PATH,
# fails at once saying TEXT and sends nothing there.
refused_socket() {
    local cfg; cfg=$(lib_config "$1" sphere)
    as_user "$EVO" run "$cfg" -n 1 -- /bin/sh -c 'EVO_FARM_UNIX_SOCKET=$0 exec "$@"' "$2" \
        "$DRIVER" verify sphere 50 2 > "$SCRATCH/$1.out" 2>&1 && fail "the driver ran against the socket $2"
    cat "$SCRATCH/$1.out"
    expect_in "$SCRATCH/$1.out" "$3"
}

# wait_socket PATH — until the listener made it.
wait_socket() {
    local i
    for i in $(seq 100); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    fail "no socket at $1"
}

t_a_socket_of_another_user_is_never_the_broker() {
    # the adversary's socket where anyone may write (/tmp)
    probe listen "$SHARED/broker.sock" 3 > "$SCRATCH/listen.out" &
    local listener=$!
    wait_socket "$SHARED/broker.sock"
    refused_socket shared "$SHARED/broker.sock" "$SHARED/broker.sock is in $SHARED, which is not ours alone"
    wait $listener
    cat "$SCRATCH/listen.out"
    expect_in "$SCRATCH/listen.out" "read 0 bytes"
    # a listener of another uid in the victim's own 0700 directory: only
    # root can put one there, and it is refused by its credentials
    user_dir "$SCRATCH/own" && chmod 700 "$SCRATCH/own"
    /usr/bin/python3 "$ROOT/tests/adversary/probe.py" listen "$SCRATCH/own/broker.sock" 5 > "$SCRATCH/listen2.out" &
    listener=$!
    wait_socket "$SCRATCH/own/broker.sock"
    refused_socket own "$SCRATCH/own/broker.sock" "$SCRATCH/own/broker.sock is a socket of uid 0, not ours"
    wait $listener
    cat "$SCRATCH/listen2.out"
    expect_in "$SCRATCH/listen2.out" "accepted 1, read 0 bytes"
}
