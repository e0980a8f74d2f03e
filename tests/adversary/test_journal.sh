# test_journal.sh — a journal is answers the farm serves as its own (a
# Python driver unpickles them): one another user planted, or could
# read, is refused before anything is evaluated.

# journal_refused NAME DIR TEXT — the victim's run with the journal DIR
# fails at once, in one line that says TEXT, and evaluates nothing.
journal_refused() {
    local cfg; cfg=$(lib_config "$1" sphere)
    chmod 644 "$cfg"
    as_user "$EVO" run "$cfg" -n 1 --journal "$2" -- "$DRIVER" verify sphere 50 2 > "$SCRATCH/$1.out" 2>&1 &&
        fail "the journal $2 was accepted: $(cat "$SCRATCH/$1.out")"
    expect_in "$SCRATCH/$1.out" "$3"
    grep -q "evaluations done" "$SCRATCH/$1.out" && fail "the refused farm evaluated: $(cat "$SCRATCH/$1.out")"
    cat "$SCRATCH/$1.out"
}

t_planted_journal_refused() {
    as_adversary mkdir -m 777 "$SHARED/run1"
    as_adversary sh -c "printf planted > '$SHARED/run1/journal' && chmod 666 '$SHARED/run1/journal'"
    journal_refused planted "$SHARED/run1" "journal directory $SHARED/run1 is owned by another user"
    [ "$(cat "$SHARED/run1/journal")" = planted ] || fail "the planted journal was written"
}

t_planted_journal_directory_refused() {
    as_adversary mkdir -m 777 "$SHARED/run2"
    journal_refused planteddir "$SHARED/run2" "journal directory $SHARED/run2 is owned by another user"
    [ -z "$(ls -A "$SHARED/run2")" ] || fail "the farm wrote in the planted directory: $(ls -l "$SHARED/run2")"
}

t_symlinked_journal_directory_refused() {
    as_adversary mkdir -m 777 "$SCRATCH/adversary/sink"
    chmod 711 "$SCRATCH/adversary"
    as_adversary ln -s "$SCRATCH/adversary/sink" "$SHARED/run3"
    journal_refused symlinked "$SHARED/run3" "$SHARED/run3"
    chmod 700 "$SCRATCH/adversary"
    [ -z "$(ls -A "$SCRATCH/adversary/sink")" ] || fail "the farm wrote through the link: $(ls -l "$SCRATCH/adversary/sink")"
}

t_journal_in_a_planted_file_refused() {
    # the directory is the victim's, but group and others may write it
    as_user mkdir -m 777 "$SHARED/run4"
    as_adversary sh -c "printf planted > '$SHARED/run4/journal' && chmod 666 '$SHARED/run4/journal'"
    journal_refused plantedfile "$SHARED/run4" "$SHARED/run4"
    [ "$(cat "$SHARED/run4/journal")" = planted ] || fail "the planted journal was written"
}
