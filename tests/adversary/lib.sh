# lib.sh — the adversary suite's second user and its helpers. Sourced by
# run-all.sh after ../integration/lib.sh and ../slurm/user.sh (as_user runs
# a command as the victim).
#
# - ADVERSARY: the other user, its own HOME ($SCRATCH/adversary, 0700);
#   as_adversary CMD... runs CMD as it.
# - SHARED: a directory everyone may write, sticky like /tmp;
#   OPEN: one without the sticky bit, like a project directory gone wrong.
# - probe ARGS...: tests/adversary/probe.py as the adversary.
# - victim_farm NAME CONFIG N CMD...: the victim's `evo-farm run` in the
#   background (its PID in FARM_PID, its output in $SCRATCH/NAME.out); its
#   record in RECORD once it is there, and handed to the adversary as a
#   colleague would be (a copy the adversary owns) in $SCRATCH/adversary/NAME.record.
ADVERSARY=evofarm-adversary
SHARED=$SCRATCH/shared
OPEN=$SCRATCH/open

adversary_make() {
    if ! id -u "$ADVERSARY" > /dev/null 2>&1; then
        useradd -M -U -d "$SCRATCH/adversary" -s /bin/sh "$ADVERSARY" || return 1
    fi
    ADVERSARY_MADE=1
    mkdir -p "$SCRATCH/adversary" "$SHARED" "$OPEN" &&
        chown "$ADVERSARY:" "$SCRATCH/adversary" && chmod 700 "$SCRATCH/adversary" &&
        chmod 1777 "$SHARED" && chmod 777 "$OPEN"
}

adversary_remove() {
    [ -n "${ADVERSARY_MADE:-}" ] && userdel "$ADVERSARY" 2> /dev/null
    return 0
}

as_adversary() {
    HOME="$SCRATCH/adversary" setpriv --reuid="$ADVERSARY" --regid="$ADVERSARY" --init-groups "$@"
}

PROBE_PROTOCOL=$("$EVO" --version | sed -n 's/.*(protocol \([0-9]*\)).*/\1/p')
export PROBE_PROTOCOL
probe() { as_adversary /usr/bin/python3 "$ROOT/tests/adversary/probe.py" "$@"; }

victim_farm() {
    local name=$1 cfg=$2 n=$3 i
    shift 3
    # setpriv itself, not as_user: the PID of the background job is the farm's
    setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups "$EVO" run "$cfg" -n "$n" -- "$@" > "$SCRATCH/$name.out" 2>&1 &
    FARM_PID=$!
    # a test that fails leaves no farm behind (each test is a subshell; the
    # trap runs under errexit and must not turn a pass into a failure)
    trap 'kill -KILL $(farm_tree "$FARM_PID") 2> /dev/null || true; wait 2> /dev/null || true' EXIT
    RECORD=""
    for i in $(seq 100); do
        RECORD=$(ls "$HOME/.evo-farm/farms/"*"-$FARM_PID" 2> /dev/null || true)
        [ -n "$RECORD" ] && break
        sleep 0.05
    done
    [ -n "$RECORD" ] || fail "no record of the victim's farm $FARM_PID: $(cat "$SCRATCH/$name.out")"
    install -o "$ADVERSARY" -m 600 "$RECORD" "$SCRATCH/adversary/$name.record"
    install -o "$ADVERSARY" -m 600 "$RECORD.join" "$SCRATCH/adversary/$name.join"
}

# farm_counter NAME FIELD — FIELD of the victim's farm's `evo-farm status --json`.
farm_counter() {
    as_user "$EVO" status --json "$(basename "$RECORD")" 2> /dev/null | sed -nE "s/.*\"$2\": ([0-9]+).*/\1/p"
}

# victim_done NAME — the victim's farm ended well: its driver's results all as expected.
victim_done() {
    wait "$FARM_PID" || fail "the victim's farm failed: $(tail -5 "$SCRATCH/$1.out")"
    expect_in "$SCRATCH/$1.out" "all as expected"
}
