# test_cmaes.sh — the built-in CMA-ES driver end to end: the tutorial
# example, reproducibility across worker counts, kill and --resume, status,
# and bad optimize: values.

# cmaes_config NAME FUNCTION GENERATIONS [extra optimize lines]
cmaes_config() {
    cat > "$SCRATCH/$1.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: $2}
optimize:
  strategy: cma-es
  dimension: 6
  centroid: 3.0
  sigma: 2.0
  lambda: 24
  generations: $3
  seed: 7
  checkpoint: 5
${4:-}
YAML
    echo "$SCRATCH/$1.yaml"
}

# result.json without the keys that legitimately differ between runs
stable_result() { grep -vE '"(time|cores)"' "$1/result.json"; }

t_cmaes_tutorial_example() {
    rm -rf "$SCRATCH/ex" && mkdir -p "$SCRATCH/ex"
    sed "s|../../build|$ROOT/$BUILD|" "$ROOT/examples/rastrigin/evolution.yaml" > "$SCRATCH/ex/evolution.yaml"
    (cd "$SCRATCH/ex" && "$EVO" run evolution.yaml -n 2) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "run failed"; }
    local r="$SCRATCH/ex/results"
    for key in solution fit time cores dimensions evaluations generations stop seed config_digest; do
        grep -q "\"$key\": " "$r/result.json" || fail "result.json has no $key"
    done
    grep -q '"dimensions": 10,' "$r/result.json" || fail "dimensions"
    grep -q '"cores": 2,' "$r/result.json" || fail "cores"
    local gens rows
    gens=$(sed -nE 's/.*"generations": ([0-9]+).*/\1/p' "$r/result.json")
    rows=$(( $(wc -l < "$r/logbook.csv") - 1 ))
    [ "$gens" = "$rows" ] || fail "logbook has $rows rows for $gens generations"
    [ "$(head -1 "$r/logbook.csv")" = "gen,nevals,avg,std,min,max,sigma,restart" ] || fail "logbook header"
    # every row has lambda = 200 evaluations; fit is the logbook's best min
    awk -F, 'NR > 1 && $2 != 200 {exit 1}' "$r/logbook.csv" || fail "nevals is not lambda"
    grep -q "<polyline" "$r/convergence.svg" || fail "no curve in convergence.svg"
    expect_in "$SCRATCH/out" "cma-es: best "
    [ "$(stat -c %a "$r/farm.access")" = 600 ] || fail "farm.access is not 0600"
}

t_cmaes_same_seed_any_worker_count() {
    local cfg; cfg=$(cmaes_config same rastrigin 60)
    for n in 1 2 6; do
        rm -rf "$SCRATCH/w$n"
        (cd "$SCRATCH" && "$EVO" run "$cfg" -n $n -q > /dev/null 2>&1 && mv results "w$n") || fail "run -n $n"
    done
    cmp "$SCRATCH/w1/logbook.csv" "$SCRATCH/w2/logbook.csv" || fail "1 and 2 workers differ"
    cmp "$SCRATCH/w1/logbook.csv" "$SCRATCH/w6/logbook.csv" || fail "1 and 6 workers differ"
    diff <(stable_result "$SCRATCH/w1") <(stable_result "$SCRATCH/w6") || fail "result differs"
    [ "$(wc -l < "$SCRATCH/w1/logbook.csv")" = 61 ] || fail "not 60 generations"
}

t_cmaes_kill_driver_and_resume() {
    local cfg; cfg=$(cmaes_config slow slow_rastrigin 80)
    rm -rf "$SCRATCH/full" "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q > /dev/null 2>&1 && mv results full) || fail "uninterrupted run"
    (cd "$SCRATCH" && exec "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 &
    local farm=$! driver=""
    for _ in $(seq 200); do
        [ -f "$SCRATCH/results/checkpoint" ] && grep -q "^generations [1-9]" "$SCRATCH/results/checkpoint" && break
        sleep 0.02
    done
    driver=$(pgrep -P $farm -f "__drive") || fail "no driver process"
    sleep 0.1
    kill -9 $driver
    wait $farm && fail "the farm did not report its driver's death"
    local at; at=$(sed -n 's/^generations //p' "$SCRATCH/results/checkpoint")
    [ "$at" -lt 80 ] || fail "the run had finished before the kill"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q --resume results) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "resume failed"; }
    expect_in "$SCRATCH/out" "cma-es: resuming results at generation $at"
    cmp "$SCRATCH/full/logbook.csv" "$SCRATCH/results/logbook.csv" || fail "logbook differs after resume"
    diff <(stable_result "$SCRATCH/full") <(stable_result "$SCRATCH/results") || fail "result differs after resume"
    echo "    killed after generation $at's checkpoint; resumed to the identical logbook"
}

t_cmaes_resume_refuses_other_config() {
    local cfg other; cfg=$(cmaes_config a rastrigin 10); other=$(cmaes_config b rastrigin 12)
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q > /dev/null 2>&1) || fail "first run"
    (cd "$SCRATCH" && "$EVO" run "$other" -n 1 -q --resume results) > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "was made with another configuration"
    "$EVO" run "$cfg" --resume "$SCRATCH/nowhere" > "$SCRATCH/out" 2>&1 && fail "accepted a missing checkpoint"
    expect_in "$SCRATCH/out" "--resume needs a results DIR holding a checkpoint, got '$SCRATCH/nowhere'"
}

t_cmaes_status_while_running() {
    local cfg; cfg=$(cmaes_config st slow_rastrigin 100)
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && exec "$EVO" run "$cfg" -n 2 -q > /dev/null 2>&1) &
    local farm=$!
    for _ in $(seq 200); do [ -f "$SCRATCH/results/progress.json" ] && break; sleep 0.02; done
    "$EVO" status "$SCRATCH/results" > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; kill $farm; fail "status failed"; }
    wait $farm || fail "run failed"
    cat "$SCRATCH/out"
    grep -qE "^workers +2: .* 2$" "$SCRATCH/out" || fail "no worker count"
    grep -qE "^generation +[0-9]+ of 100$" "$SCRATCH/out" || fail "no generation"
    grep -qE "^rate +[0-9]+ evaluations/s$" "$SCRATCH/out" || fail "no rate"
    "$EVO" status "$SCRATCH/results" > "$SCRATCH/out" 2>&1 && fail "status of a finished run succeeded"
    expect_in "$SCRATCH/out" "does not answer (finished, or not reachable from here)"
    # several endpoints, none answering (a firewall, or the end): all named in one line
    sed -i 's|^endpoints \(.*\)$|endpoints \1,tcp://127.0.0.1:1|' "$SCRATCH/results/farm.access"
    "$EVO" status "$SCRATCH/results" > "$SCRATCH/out" 2>&1 && fail "status of a finished run succeeded"
    grep -qE "none of its 2 endpoints answered from here \(tcp://127\.0\.0\.1:[0-9]+, tcp://127\.0\.0\.1:1; a firewall" \
        "$SCRATCH/out" || { cat "$SCRATCH/out"; fail "the endpoints tried are not named"; }
    [ "$(grep -c . "$SCRATCH/out")" = 1 ] || fail "more than one line"
    chmod 644 "$SCRATCH/results/farm.access"
    "$EVO" status "$SCRATCH/results" > "$SCRATCH/out" 2>&1 && fail "accepted a world-readable access file"
    expect_in "$SCRATCH/out" "readable by others (mode 644)"
}

t_cmaes_failed_evaluations_rank_last() {
    # fail_if_negative fails every candidate with x[0] < 0: about half of
    # the first generations; each is reported, ranked last, and counted.
    local cfg; cfg=$(cmaes_config failing fail_if_negative 20)
    sed -i 's/farm: {heartbeat: 200ms}/farm: {heartbeat: 200ms, retries: 0}/; s/centroid: 3.0/centroid: 0.0/' "$cfg"
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "run failed"; }
    local failed; failed=$(sed -nE 's/.*"failed_evaluations": ([0-9]+),/\1/p' "$SCRATCH/results/result.json")
    [ "${failed:-0}" -gt 0 ] || fail "no failed evaluation counted"
    expect_in "$SCRATCH/out" "evaluation failed, ranked last: task"
    [ "$(grep -c "evaluation failed, ranked last" "$SCRATCH/out")" -le 5 ] || fail "more than 5 warnings"
    # the best solution is a point that did not fail
    grep -qE '"solution": \[[0-9]' "$SCRATCH/results/result.json" || fail "best solution has x[0] < 0"
    echo "    $failed evaluations failed and ranked last"
}

# The progress line redraws in place on a terminal (script(1) gives the run
# one) and is a plain line per report otherwise.
t_cmaes_progress_line() {
    local cfg; cfg=$(cmaes_config progress slow_rastrigin 60)
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && script -qec "$EVO run $cfg -n 2 -q" /dev/null) > "$SCRATCH/tty" 2>&1 || fail "run on a terminal"
    grep -q $'\r\033\[Kcma-es: generation [0-9]*/60, ' "$SCRATCH/tty" || { cat -v "$SCRATCH/tty" | tail -3; fail "no redrawn line"; }
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/plain" 2>&1 || fail "run without a terminal"
    grep -q $'\r' "$SCRATCH/plain" && fail "carriage returns without a terminal"
    grep -qE "^cma-es: generation 60/60, 1440 evaluations, [0-9]+ evaluations/s, best [0-9.e+-]+, 2 workers$" \
        "$SCRATCH/plain" || { cat "$SCRATCH/plain"; fail "no final plain progress line"; }
    grep -qE "^cma-es: generation 1/60, .* ETA [0-9]+ s$" "$SCRATCH/plain" || fail "no ETA on the first line"
}

# A NaN objective is ranked last and never the best, even as the run's very
# first evaluation (the old code took evaluation 0 as the best whatever it
# was, and NaN then compared below nothing: "fit": nan forever).
t_cmaes_nan_never_best() {
    local cfg; cfg=$(cmaes_config nan nan_first 10)
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "run failed"; }
    expect_in "$SCRATCH/out" "evaluation gave nan, not a finite objective: ranked last"
    "$PY" -m json.tool "$SCRATCH/results/result.json" > /dev/null || fail "result.json is not JSON"
    "$PY" - "$SCRATCH/results/result.json" <<'PY' || fail "the best is not a finite number"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r["fit"], float) and math.isfinite(r["fit"]), r["fit"]
assert r["nonfinite_evaluations"] == 1, r["nonfinite_evaluations"]
assert all(math.isfinite(v) for v in r["solution"])
PY
}

# Every evaluation of every generation failed: progress.json and
# result.json are still JSON, with null for the best that does not exist.
t_cmaes_all_failed_valid_json() {
    local cfg; cfg=$(cmaes_config allfail fail_if_negative 3)
    sed -i 's/farm: {heartbeat: 200ms}/farm: {heartbeat: 200ms, retries: 0}/; s/centroid: 3.0/centroid: -100.0/; s/sigma: 2.0/sigma: 0.01/' "$cfg"
    rm -rf "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "run failed"; }
    for f in progress.json result.json; do
        "$PY" -m json.tool "$SCRATCH/results/$f" > /dev/null || { cat "$SCRATCH/results/$f"; fail "$f is not JSON"; }
    done
    expect_in "$SCRATCH/results/progress.json" '"best": null'
    expect_in "$SCRATCH/results/result.json" '"fit": null'
    expect_in "$SCRATCH/results/result.json" '"solution": null'
    expect_in "$SCRATCH/results/result.json" '"failed_evaluations": 72'
}

# A results directory others may write, another user's, or a link to one
# is refused before anything is written, with one line saying why.
t_cmaes_refuses_unsafe_results_dir() {
    local cfg; cfg=$(cmaes_config unsafe rastrigin 3)
    rm -rf "$SCRATCH/results" "$SCRATCH/elsewhere" && mkdir -m 0777 "$SCRATCH/results" && chmod 0777 "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q) > "$SCRATCH/out" 2>&1 && fail "accepted a 0777 directory"
    expect_in "$SCRATCH/out" "results directory results may be written by group or others (chmod go-w it) (owner uid"
    [ "$(grep -c 'error' "$SCRATCH/out")" = 1 ] || { cat "$SCRATCH/out"; fail "not one error line"; }
    [ -z "$(ls -A "$SCRATCH/results")" ] || fail "something was written into it"
    if [ "$(id -u)" = 0 ]; then # only root can give a directory to another user
        chmod 0755 "$SCRATCH/results" && chown 65534:65534 "$SCRATCH/results"
        (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q) > "$SCRATCH/out" 2>&1 && fail "accepted another user's directory"
        expect_in "$SCRATCH/out" "results directory results is owned by another user (owner uid 65534"
    fi
    rm -rf "$SCRATCH/results" && mkdir "$SCRATCH/elsewhere" && ln -s elsewhere "$SCRATCH/results"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q) > "$SCRATCH/out" 2>&1 && fail "accepted a link"
    expect_in "$SCRATCH/out" "results directory results: is a symbolic link"
    rm -f "$SCRATCH/results"
}

# A link planted in place of a results file is never written through (nor
# read): the run stops or warns, and the file the link names is untouched.
t_cmaes_refuses_planted_links() {
    local cfg name; cfg=$(cmaes_config links rastrigin 5)
    for name in logbook.csv checkpoint result.json progress.json farm.access convergence.svg; do
        rm -rf "$SCRATCH/results" && mkdir "$SCRATCH/results"
        echo "the victim's file" > "$SCRATCH/victim"
        ln -s "$SCRATCH/victim" "$SCRATCH/results/$name"
        (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q) > "$SCRATCH/out" 2>&1 || true
        [ "$(cat "$SCRATCH/victim")" = "the victim's file" ] || fail "$name: the link's target was written"
        [ -L "$SCRATCH/results/$name" ] || fail "$name: the link was replaced"
        ls "$SCRATCH/results" | grep -q '\.tmp\.' && fail "$name: a temporary was left"
        echo "    $name: $(grep -m1 -E 'error|warning' "$SCRATCH/out" | cut -c1-110)"
    done
    rm -rf "$SCRATCH/results"
}

# A full disk (a 64 KiB tmpfs filled while the run goes): one clear error,
# and the last checkpoint stays whole: the run resumes from it, once there
# is room, to the logbook of an uninterrupted run.
t_cmaes_disk_full_keeps_checkpoint() {
    [ "$(id -u)" = 0 ] || { echo "a full disk needs root to mount a tmpfs: not tried"; return 0; }
    local cfg full="$SCRATCH/fulldisk"; cfg=$(cmaes_config full slow_rastrigin 60)
    rm -rf "$SCRATCH/results" "$SCRATCH/uninterrupted"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q > /dev/null 2>&1 && mv results uninterrupted) || fail "uninterrupted run"
    mkdir -p "$full" && mount -t tmpfs -o size=64k,mode=0755 tmpfs "$full" || fail "cannot mount a tmpfs"
    (cd "$full" && exec "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 &
    local farm=$! rc=0
    for _ in $(seq 250); do
        grep -qs "^generations [1-9]" "$full/results/checkpoint" && break
        sleep 0.02
    done
    dd if=/dev/zero of="$full/filler" bs=4k 2> /dev/null || true
    wait $farm || rc=$?
    [ $rc != 0 ] || { umount "$full"; fail "the run did not notice the full disk"; }
    grep -q "No space left on device" "$SCRATCH/out" || { cat "$SCRATCH/out"; umount "$full"; fail "no ENOSPC error"; }
    grep "error" "$SCRATCH/out" | sed 's/^/    /'
    [ "$(grep -c 'error:.*No space left' "$SCRATCH/out")" = 1 ] || { umount "$full"; fail "not one error line"; }
    ls "$full/results" | grep -q '\.tmp\.' && { umount "$full"; fail "a temporary was left"; }
    rm -f "$full/filler"
    (cd "$full" && "$EVO" run "$cfg" -n 2 -q --resume results) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; umount "$full"; fail "resume failed"; }
    cmp "$SCRATCH/uninterrupted/logbook.csv" "$full/results/logbook.csv" || { umount "$full"; fail "logbook differs after resume"; }
    umount "$full"
}
