# test_socket.sh — the members on the broker's machine reach it over a Unix
# socket by its path: a socket another user made at that path (first, or
# after the broker removed its own) is never taken for the broker.

t_a_socket_of_another_user_is_never_the_broker() {
    local cfg; cfg=$(lib_config sock sphere)
    probe listen "$SHARED/broker.sock" 8 > "$SCRATCH/listen.out" &
    local listener=$! i
    for i in $(seq 100); do
        [ -S "$SHARED/broker.sock" ] && break
        sleep 0.05
    done
    [ -S "$SHARED/broker.sock" ] || fail "the adversary's socket was not made"
    # the driver's EVO_FARM_UNIX_SOCKET names the adversary's socket
    as_user "$EVO" run "$cfg" -n 1 -- /bin/sh -c 'EVO_FARM_UNIX_SOCKET=$0 exec "$@"' "$SHARED/broker.sock" \
        "$DRIVER" verify sphere 50 2 > "$SCRATCH/sock.out" 2>&1 && fail "the driver ran against another user's socket"
    wait $listener
    cat "$SCRATCH/listen.out" "$SCRATCH/sock.out"
    expect_in "$SCRATCH/sock.out" "$SHARED/broker.sock is a socket of uid $(id -u "$ADVERSARY"), not ours"
    expect_in "$SCRATCH/listen.out" "read 0 bytes"
}
