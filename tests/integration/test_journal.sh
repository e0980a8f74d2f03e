# test_journal.sh — the journal (output.journal, --journal DIR): a C driver
# through the client API killed mid-map and run again with the same
# journal gets every result right, and what the killed run finished is
# answered from the journal, not evaluated again; another evaluator's
# journal and a file that is not one are refused in one line.

t_journal_resumes_a_killed_c_driver() {
    local cfg; cfg=$(lib_config jr slow_sphere) j="$SCRATCH/journal"
    rm -rf "$j"
    "$EVO" run "$cfg" -n 2 --journal "$j" -- "$DRIVER" verify sphere 3000 3 > "$SCRATCH/out" 2>&1 &
    local runpid=$! i
    for i in $(seq 100); do [ "$(stat -c %s "$j/journal" 2> /dev/null || echo 0)" -gt 20000 ] && break; sleep 0.05; done
    pkill -9 -P "$runpid" -f mapdriver || fail "no driver to kill"
    wait "$runpid" && fail "the farm of a killed driver exited 0"
    "$EVO" run "$cfg" -n 2 --journal "$j" -- "$DRIVER" verify sphere 3000 3 > "$SCRATCH/out" 2>&1 ||
        { cat "$SCRATCH/out"; fail "the rerun failed"; }
    expect_in "$SCRATCH/out" "mapdriver: 3000 results, 0 failed, all as expected"
    local known evaluated hits
    known=$(sed -nE 's/.*journal .*: ([0-9]+) answers.*/\1/p' "$SCRATCH/out")
    evaluated=$(sed -nE 's/^evo-farm: ([0-9]+) evaluations done.*/\1/p' "$SCRATCH/out")
    hits=$(sed -nE 's/^evo-farm: ([0-9]+) evaluations answered from the journal.*/\1/p' "$SCRATCH/out")
    echo "    killed run recorded $known; rerun: $hits from the journal, $evaluated evaluated"
    [ "${known:-0}" -gt 0 ] && [ "$known" -lt 3000 ] || fail "the killed run recorded $known answers"
    [ "$hits" = "$known" ] && [ $((evaluated + hits)) -eq 3000 ] || fail "evaluated $evaluated + hits $hits != 3000 (known $known)"
}

t_journal_of_another_evaluator_refused() {
    local cfg other j="$SCRATCH/journal2"
    cfg=$(lib_config ja sphere) other=$(lib_config jb rastrigin)
    rm -rf "$j"
    "$EVO" run "$cfg" -n 1 --journal "$j" -- "$DRIVER" verify sphere 10 2 > "$SCRATCH/out" 2>&1 || fail "first run"
    "$EVO" run "$other" -n 1 --journal "$j" -- "$DRIVER" verify rastrigin 10 2 > "$SCRATCH/out" 2>&1 &&
        fail "another evaluator's journal was used"
    expect_in "$SCRATCH/out" "$j/journal was written for another evaluator (the evaluate: section differs)"
    mkdir -p "$SCRATCH/notj" && printf 'not a journal\n' > "$SCRATCH/notj/journal"
    "$EVO" run "$cfg" -n 1 --journal "$SCRATCH/notj" -- "$DRIVER" verify sphere 10 2 > "$SCRATCH/out" 2>&1 && fail "not a journal used"
    expect_in "$SCRATCH/out" "$SCRATCH/notj/journal is not an evo-farm journal"
    "$EVO" run "$cfg" --journal > "$SCRATCH/out" 2>&1 && fail "--journal without a directory accepted"
    expect_in "$SCRATCH/out" "--journal needs a directory"
}
