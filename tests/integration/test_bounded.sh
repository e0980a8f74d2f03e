# test_bounded.sh — memory stays flat whatever a driver submits:
# 10^8 one-dimensional vectors through the C client, in pieces, every
# result checked once; the client's window (65,536 in the farm) and the
# broker's quota bound what the farm holds, so the driver's and the
# broker's RSS at 10 % and at 90 % of the run differ by at most 16 MiB.

t_hundred_million_vectors_in_flat_memory() {
    local cfg; cfg=$(lib_config hm sphere)
    "$EVO" run "$cfg" -n 2 -- "$DRIVER" stream 100000000 16 > "$SCRATCH/out" 2>&1 ||
        { tail -5 "$SCRATCH/out"; fail "the stream of 10^8 failed"; }
    expect_in "$SCRATCH/out" "mapdriver: stream of 100000000: 100000000 results checked"
    expect_in "$SCRATCH/out" "evo-farm: 100000000 evaluations done, 0 failed"
    grep -F "mapdriver: stream" "$SCRATCH/out" | sed 's/^/    /'
}

# More than the window through one submit: it returns once all are sent
# (receiving results meanwhile), and nothing is lost.
t_submit_beyond_the_window() {
    local cfg; cfg=$(lib_config bw sphere)
    EVO_FARM_WINDOW=1000 "$EVO" run "$cfg" -n 2 -- "$DRIVER" submit sphere 20000 3 > "$SCRATCH/out" 2>&1 ||
        { tail -5 "$SCRATCH/out"; fail "submit of 20,000 with a window of 1,000 failed"; }
    expect_in "$SCRATCH/out" "mapdriver: submit/wait: all as expected"
}
