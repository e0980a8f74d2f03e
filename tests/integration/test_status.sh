# test_status.sh — evo-farm status for any farm: a Python-driven
# farm is listed with no argument and shown by its id, in text and JSON,
# and redrawn with --watch; its record goes with it; the status key it
# publishes reads statistics and cannot submit (refused and counted).

# start_python_farm NAME SECONDS — a Python driver mapping for about SECONDS
# in the background; FARM_PID and FARM_ID (its record's) once the record
# exists.
start_python_farm() {
    cat > "$SCRATCH/$1.py" <<PY
import time
from evofarm import futures
def sq(x):
    time.sleep(0.01)
    return x * x
if __name__ == "__main__":
    end = time.time() + $2
    while time.time() < end:
        assert sum(futures.map(sq, range(20))) == 2470
PY
    printf 'farm: {heartbeat: 200ms}\nevaluate: {python: %s}\n' "$PY" > "$SCRATCH/$1.yaml"
    (cd "$SCRATCH" && PYTHONPATH="$ROOT/python" exec "$EVO" run "$1.yaml" -n 2 -- "$PY" "$1.py") > "$SCRATCH/$1.out" 2>&1 &
    FARM_PID=$! FARM_ID=""
    local i
    for i in $(seq 100); do
        FARM_ID=$(ls "$HOME/.evo-farm/farms" 2> /dev/null | grep -- "-$FARM_PID\$" || true)
        [ -n "$FARM_ID" ] && break
        sleep 0.05
    done
    [ -n "$FARM_ID" ] || { cat "$SCRATCH/$1.out"; fail "no record for farm $FARM_PID"; }
}

# wait_farm NAME — waits for the farm started above; it must have succeeded.
wait_farm() {
    wait "$FARM_PID" || { cat "$SCRATCH/$1.out"; fail "the farm failed"; }
}

t_status_of_a_python_farm() {
    start_python_farm st 4
    local id=$FARM_ID
    sleep 1
    "$EVO" status > "$SCRATCH/list" || fail "status with no argument failed"
    grep -qE "^$id +local +2 " "$SCRATCH/list" || { cat "$SCRATCH/list"; fail "the farm is not listed"; }
    grep -F "$PY st.py" "$SCRATCH/list" > /dev/null || fail "the driver's command is not listed"
    "$EVO" status "$id" > "$SCRATCH/one" || fail "status $id failed"
    expect_in "$SCRATCH/one" "farm         $id (local"
    expect_in "$SCRATCH/one" "workers      2:"
    "$EVO" status --json "$id" > "$SCRATCH/json" || fail "status --json failed"
    "$PY" - "$SCRATCH/json" "$id" <<'PY' || fail "status --json: $(cat "$SCRATCH/json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["id"] == sys.argv[2] and s["kind"] == "local" and s["workers"] == 2, s
assert s["hosts"][0]["workers"] == 2 and s["done"] > 0 and s["drivers"] >= 1, s
for key in ("queued", "in_flight", "failed", "retried", "requeued", "refused", "evaluations_per_second", "pid", "started"):
    assert key in s, key
PY
    "$EVO" status --json > "$SCRATCH/jsonlist" || fail "status --json with no argument failed"
    "$PY" -c "import json,sys; l=json.load(open(sys.argv[1])); assert any(f['id']==sys.argv[2] for f in l), l" \
        "$SCRATCH/jsonlist" "$id" || fail "status --json list: $(cat "$SCRATCH/jsonlist")"
    timeout 2.5 "$EVO" status --watch "$id" > "$SCRATCH/watch" || true
    [ "$(grep -c "workers      2:" "$SCRATCH/watch")" -ge 2 ] || fail "--watch drew $(grep -c "workers " "$SCRATCH/watch") times"
    wait_farm st
    [ ! -e "$HOME/.evo-farm/farms/$id" ] || fail "the record outlived its farm"
    "$EVO" status "$id" > "$SCRATCH/out" 2>&1 && fail "status of an ended farm succeeded"
    expect_in "$SCRATCH/out" "no running farm '$id'"
}

# Farms that ended without a word (killed by a signal: their records stay)
# cost status nothing: the records of this machine whose process is gone
# are removed at once, and the ones it cannot judge (a Slurm step's rank 0
# on another node, no Slurm to ask here) are asked all at once, a second
# each, so the running farm is listed however many there are (serially, 3 s
# each, 8 of them took 24 s and the farm had ended when status answered).
t_stale_records_do_not_slow_status() {
    start_python_farm stale 12
    local id=$FARM_ID dir="$HOME/.evo-farm/farms" i start took
    for i in $(seq 8); do
        sed -e "s/^id .*/id 90$i.0/" -e "s/^kind .*/kind slurm/" -e "s/^host .*/host node-elsewhere/" \
            -e "s|^endpoints .*|endpoints tcp://127.0.0.1:9|" "$dir/$id" > "$dir/90$i.0"
        sed -e "s/^id .*/id dead-$i/" -e "s/^pid .*/pid 999999$i/" "$dir/$id" > "$dir/dead-$i"
        printf 'x\n' > "$dir/dead-$i.join"
        chmod 600 "$dir/90$i.0" "$dir/dead-$i" "$dir/dead-$i.join"
    done
    grep -q "^endpoints tcp://127.0.0.1:9$" "$dir/901.0" || { cat "$dir/901.0"; fail "the planted record has no endpoints line"; }
    start=$(date +%s%N)
    timeout 8 "$EVO" status > "$SCRATCH/list" || { cat "$SCRATCH/list"; fail "status took over 8 s or failed"; }
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "status with 16 stale records: $took ms"
    grep -qE "^$id +local +2 " "$SCRATCH/list" || { cat "$SCRATCH/list"; fail "the running farm is not listed"; }
    [ "$(grep -c "^90[1-8].0 .*not answering" "$SCRATCH/list")" = 8 ] || { cat "$SCRATCH/list"; fail "the 8 far records are not shown as not answering"; }
    ! grep -q "^dead-" "$SCRATCH/list" || fail "a record whose process is gone is listed"
    [ -z "$(ls "$dir" | grep '^dead-')" ] || { ls "$dir"; fail "the dead records or their join credentials were kept"; }
    [ "$took" -lt 6000 ] || fail "status took $took ms (the far records were asked one after another)"
    kill "$FARM_PID" 2> /dev/null || true
    wait "$FARM_PID" 2> /dev/null || true
    rm -f "$dir"/90[1-8].0
}

t_status_key_cannot_submit() {
    start_python_farm sk 3
    local id=$FARM_ID pid=$FARM_PID rec="$HOME/.evo-farm/farms/$FARM_ID"
    local ep server public secret
    ep=$(sed -n 's/^endpoints //p' "$rec") server=$(sed -n 's/^server //p' "$rec")
    public=$(sed -n 's/^public //p' "$rec") secret=$(sed -n 's/^secret //p' "$rec")
    [ "$public" != "$(tr '\0' '\n' < /proc/$pid/environ | sed -n 's/^EVO_FARM_CLIENT_PUBLIC=//p')" ] ||
        fail "the record holds the member key"
    EVO_FARM_UNIX_SOCKET= EVO_FARM_ENDPOINT="$ep" EVO_FARM_SERVER_KEY="$server" EVO_FARM_CLIENT_PUBLIC="$public" \
        EVO_FARM_CLIENT_SECRET="$secret" "$DRIVER" verify sphere 5 2 > "$SCRATCH/out" 2>&1 && fail "a status reader submitted"
    expect_in "$SCRATCH/out" "status key, which may only read statistics"
    "$EVO" status --json "$id" > "$SCRATCH/json" || fail "status failed"
    "$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['refused'] >= 1, s" "$SCRATCH/json" ||
        fail "the refusal was not counted: $(cat "$SCRATCH/json")"
    wait_farm sk
}

# Workers of this machine join a running farm (evo-farm join FARM -n 2)
# mid-map, are counted in its status, and are stopped mid-map (SIGTERM:
# each says BYE, what it held is requeued): the map completes with every
# result right and none twice (mapdriver verify checks both).
t_join_a_running_farm() {
    local cfg; cfg=$(lib_config jn slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 8000 3 > "$SCRATCH/jn.out" 2>&1 &
    local runpid=$! id="" i
    for i in $(seq 100); do
        id=$(ls "$HOME/.evo-farm/farms" 2> /dev/null | grep -- "-$runpid\$" || true)
        [ -n "$id" ] && break
        sleep 0.05
    done
    [ -n "$id" ] || fail "no record for the farm"
    [ "$(stat -c %a "$HOME/.evo-farm/farms/$id.join")" = 600 ] || fail "the join credential is not private"
    "$EVO" join "$id" -n 2 > "$SCRATCH/join.out" 2>&1 &
    local joinpid=$!
    wait_workers "$id" 3 || { cat "$SCRATCH/join.out"; fail "status saw ${WORKERS:-no} workers after the join"; }
    sleep 0.5
    kill -TERM "$joinpid"
    wait "$joinpid" || { cat "$SCRATCH/join.out"; fail "evo-farm join failed"; }
    expect_in "$SCRATCH/join.out" "evo-farm join: 2 workers joining the farm"
    expect_in "$SCRATCH/join.out" "the workers left the farm (stopped)"
    wait "$runpid" || { tail "$SCRATCH/jn.out"; fail "the farm failed"; }
    expect_in "$SCRATCH/jn.out" "mapdriver: 8000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/jn.out" "evo-farm: 8000 evaluations done, 0 failed"
    grep -F "evaluations done" "$SCRATCH/jn.out" | sed 's/^/    /'
    "$EVO" join nosuchfarm > "$SCRATCH/out" 2>&1 && fail "joined a farm that does not exist"
    expect_in "$SCRATCH/out" "no running farm 'nosuchfarm' to join"
}

# Workers that join a Python farm get its Python evaluator: the join
# credential carries the configuration as printed, which once said
# command: for python: and made them vector evaluators that failed every
# call they were handed. Every call of the driver succeeds, joined
# workers' included.
t_join_a_python_farm() {
    start_python_farm jp 4
    "$EVO" join "$FARM_ID" -n 2 > "$SCRATCH/jp-join.out" 2>&1 &
    local joinpid=$!
    wait_workers "$FARM_ID" 4 || { cat "$SCRATCH/jp-join.out"; fail "status saw ${WORKERS:-no} workers after the join"; }
    grep -A4 "^evaluate:" "$HOME/.evo-farm/farms/$FARM_ID.join" | grep -q "python: " ||
        fail "the join credential does not say python:"
    wait_farm jp
    kill -TERM "$joinpid" 2> /dev/null || true
    wait "$joinpid" || true
    ! grep -E "failed after|carries a payload| [1-9][0-9]* (failed|retried)," "$SCRATCH/jp.out" ||
        fail "calls failed on the joined workers"
    expect_in "$SCRATCH/jp.out" "4 workers connected at the end"
}

# A worker whose evaluator cannot take the farm's tasks (started from
# another configuration: here the join credential of a vector farm edited
# to say python:) is refused when it says HELLO, in one line on each
# side, and is never handed a task to fail: the map completes with no
# failure and no retry.
t_join_with_another_evaluator_refused() {
    local cfg; cfg=$(lib_config je slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify slow_sphere 1500 3 > "$SCRATCH/je.out" 2>&1 &
    local runpid=$! rc=0
    wait_join_credential $runpid
    sed -e "s|^  library: .*|  python: \"$PY\"|" -e '/^  function: /d' "$JOIN" > "$SCRATCH/other.join"
    chmod 600 "$SCRATCH/other.join"
    grep -q "^  python: " "$SCRATCH/other.join" || fail "could not make the other credential"
    timeout 20 "$EVO" join "$SCRATCH/other.join" -n 1 > "$SCRATCH/je-join.out" 2>&1 || rc=$?
    wait $runpid || { cat "$SCRATCH/je.out"; fail "the farm failed"; }
    cat "$SCRATCH/je-join.out"
    [ $rc != 124 ] || fail "the refused worker did not leave"
    expect_in "$SCRATCH/je-join.out" "the farm sent this worker away before welcoming it"
    expect_in "$SCRATCH/je.out" "refused: its evaluator reads Python calls but this farm's tasks are vectors"
    expect_in "$SCRATCH/je.out" "mapdriver: 1500 results, 0 failed, all as expected"
    expect_in "$SCRATCH/je.out" "1500 evaluations done, 0 failed, 0 retried"
}

# evo-farm drain JOBID: two workers that joined from "job 777" (as the
# tasks of a Slurm job that joined would) get no more work, return what
# they hold and leave by themselves (their evo-farm join ends, not
# stopped); nothing of theirs is requeued; the map completes on the farm's
# own worker with every result right, none twice.
t_drain_joined_workers() {
    local cfg; cfg=$(lib_config dr slow_sphere)
    "$EVO" run "$cfg" -n 1 -- "$DRIVER" verify sphere 8000 3 > "$SCRATCH/dr.out" 2>&1 &
    local runpid=$! i
    wait_join_credential $runpid
    SLURM_JOB_ID=777 SLURM_STEP_ID=0 "$EVO" join "$FARM_ID" -n 2 > "$SCRATCH/join.out" 2>&1 &
    local joinpid=$!
    wait_workers "$FARM_ID" 3 || { cat "$SCRATCH/join.out"; fail "status saw ${WORKERS:-no} workers after the join"; }
    sleep 0.5
    "$EVO" drain 777 --farm "$FARM_ID" > "$SCRATCH/drain.out" 2>&1 || { cat "$SCRATCH/drain.out"; fail "drain failed"; }
    expect_in "$SCRATCH/drain.out" "farm $FARM_ID: 2 workers of 777 draining"
    for i in $(seq 50); do kill -0 $joinpid 2> /dev/null || break; sleep 0.1; done
    kill -0 $joinpid 2> /dev/null && fail "the drained workers did not leave"
    wait $joinpid || { cat "$SCRATCH/join.out"; fail "evo-farm join failed"; }
    expect_in "$SCRATCH/join.out" "the workers left the farm"
    grep -q "(stopped)" "$SCRATCH/join.out" && fail "the workers were stopped, not drained"
    "$EVO" status --json "$FARM_ID" > "$SCRATCH/json" 2>&1 || fail "status failed"
    "$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['workers'] == 1 and s['requeued'] == 0, s" \
        "$SCRATCH/json" || fail "after the drain: $(cat "$SCRATCH/json")"
    # A farm none of whose endpoints answers from here (a firewall between):
    # drain names every endpoint it tried, in one line, as status does.
    local rec="$HOME/.evo-farm/farms/$FARM_ID"
    cp -p "$rec" "$SCRATCH/record"
    sed -i 's|^endpoints .*$|endpoints tcp://127.0.0.1:1,tcp://127.0.0.1:2|' "$rec"
    "$EVO" drain 777 --farm "$FARM_ID" > "$SCRATCH/out" 2>&1 && fail "drained a farm it could not reach"
    cp -p "$SCRATCH/record" "$rec"
    grep -qE "none of its 2 endpoints answered from here \(tcp://127\.0\.0\.1:1, tcp://127\.0\.0\.1:2; a firewall" \
        "$SCRATCH/out" || { cat "$SCRATCH/out"; fail "drain did not name the endpoints it tried"; }
    [ "$(grep -c . "$SCRATCH/out")" = 1 ] || { cat "$SCRATCH/out"; fail "more than one line"; }
    wait $runpid || { tail "$SCRATCH/dr.out"; fail "the farm failed"; }
    expect_in "$SCRATCH/dr.out" "mapdriver: 8000 results, 0 failed, all as expected"
    expect_in "$SCRATCH/dr.out" "0 requeued from lost workers"
    "$EVO" drain 778 --farm nosuchfarm > "$SCRATCH/out" 2>&1 && fail "drained a farm that does not exist"
    expect_in "$SCRATCH/out" "no running farm 'nosuchfarm'"
    local rc=0
    "$EVO" drain > "$SCRATCH/out" 2>&1 || rc=$?
    [ $rc = 2 ] || fail "drain without workers named exited $rc, not 2"
}
