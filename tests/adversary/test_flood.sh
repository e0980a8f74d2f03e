# test_flood.sh — the broker's TCP port is open to every user of the node
# (127.0.0.1 under `evo-farm run`, every address on rank 0), and libzmq
# reads a frame's size before CURVE has checked anyone: connections that
# announce huge frames, or never finish a small one, must cost the broker
# neither its memory nor its farm.

# broker_port — the TCP port of the victim's farm, from its record.
broker_port() { sed -n 's/^endpoints tcp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$RECORD"; }

# rss_kib PID / hwm_kib PID — a process's resident memory now / at its peak.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

t_huge_frames_before_authentication_cost_nothing() {
    local cfg; cfg=$(lib_config flood slow_sphere)
    victim_farm flood "$cfg" 1 "$DRIVER" verify slow_sphere 6000 2
    local port before out after
    port=$(broker_port)
    [ -n "$port" ] || fail "no TCP endpoint in the record: $(head -1 "$RECORD")"
    before=$(rss_kib "$FARM_PID")
    # 8 connections at once, each a greeting and a 1 GiB frame, then up to 64 MiB of it
    out=$(probe flood 127.0.0.1 "$port" 8 $((1 << 30)) $((64 << 20)) 15)
    after=$(hwm_kib "$FARM_PID")
    echo "flood: $out; broker resident $before KiB before, peak $after KiB"
    case "$out" in "closed 8 of 8, "*) ;; *) fail "the broker kept connections that announced 1 GiB frames: $out" ;; esac
    [ $((after - before)) -lt $((32 << 10)) ] || fail "the broker grew by $(((after - before) >> 10)) MiB under the flood"
    victim_done flood
    expect_in "$SCRATCH/flood.out" "6000 evaluations done"
}

t_unfinished_handshakes_are_closed() {
    local cfg; cfg=$(lib_config stall slow_sphere)
    victim_farm stall "$cfg" 1 "$DRIVER" verify slow_sphere 9000 2
    local port out
    port=$(broker_port)
    # 16 connections that announce a 100-byte frame, send 10 bytes of it and
    # stall: closed after the 5 s handshake limit (libzmq's own is 30 s),
    # while the farm still runs (9000 evaluations of 1.5 ms)
    out=$(probe flood 127.0.0.1 "$port" 16 100 10 10)
    echo "stall: $out"
    kill -0 "$FARM_PID" 2> /dev/null || fail "the farm ended before the stalled connections were judged"
    case "$out" in "closed 16 of 16, "*) ;; *) fail "stalled handshakes kept open for 10 s: $out" ;; esac
    victim_done stall
}
