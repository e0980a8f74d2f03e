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
    [ "$(head -1 "$r/logbook.csv")" = "gen,nevals,avg,std,min,max" ] || fail "logbook header"
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
