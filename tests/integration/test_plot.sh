# test_plot.sh — the convergence plot: a CMA-ES run with IPOP restarts
# draws it, `evo-farm plot DIR` redraws the same file from the logbook, and
# the SVG parses (xmllint) and renders to a PNG of the right size
# (rsvg-convert, Debian's librsvg2-bin); edge logbooks render too; bad
# input gives one line naming the file and line.

# render SVG — well-formed XML, and a 760 x 440 PNG from rsvg-convert
render() {
    command -v rsvg-convert > /dev/null || fail "no rsvg-convert: install librsvg2-bin (scripts/install-deps)"
    command -v xmllint > /dev/null || fail "no xmllint: install libxml2-utils (scripts/install-deps)"
    xmllint --noout "$1" || fail "$1 is not well-formed XML"
    rsvg-convert -o "$1.png" "$1" || fail "rsvg-convert cannot render $1"
    [ "$(head -c 8 "$1.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1.png is not a PNG"
    # IHDR: width and height, big-endian, at bytes 16..23
    [ "$(od -An -tu1 -j16 -N8 "$1.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 248 0 0 1 184" ] ||
        fail "$1.png is not 760 x 440: $(od -An -tu1 -j16 -N8 "$1.png")"
}

plot_config() {
    cat > "$SCRATCH/plot.yaml" <<YAML
farm: {heartbeat: 200ms}
evaluate: {library: $TESTLIB, function: rastrigin}
optimize:
  strategy: cma-es
  dimension: 6
  centroid: 3.0
  sigma: 2.0
  lambda: 12
  bounds: [-5, 5]
  restarts: 2
  tolfun: 1e-8
  generations: 400
  seed: 7
YAML
    echo "$SCRATCH/plot.yaml"
}

t_plot_cmaes_restarts_rendered() {
    local cfg r="$SCRATCH/results" restarts; cfg=$(plot_config)
    rm -rf "$r"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 2 -q) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "run failed"; }
    restarts=$(sed -nE 's/.*"restarts": ([0-9]+),/\1/p' "$r/result.json")
    [ "$restarts" = 2 ] || fail "the run made $restarts restarts, not 2"
    [ "$(head -1 "$r/logbook.csv")" = "gen,nevals,avg,std,min,max,sigma,restart" ] || fail "logbook header"
    # the restart column counts them, lambda doubles at each, sigma starts at 2
    [ "$(awk -F, 'NR > 1 {print $8}' "$r/logbook.csv" | uniq | tr '\n' ' ')" = "0 1 2 " ] || fail "restart column"
    [ "$(awk -F, 'NR > 1 {print $2}' "$r/logbook.csv" | uniq | tr '\n' ' ')" = "12 24 48 " ] || fail "nevals"
    [ "$(awk -F, 'NR == 2 {print $7}' "$r/logbook.csv")" = 2 ] || fail "sigma of generation 0"
    render "$r/convergence.svg"
    [ "$(grep -c 'class="restart"' "$r/convergence.svg")" = 2 ] || fail "not 2 restart markers"
    grep -q 'class="y-tick"' "$r/convergence.svg" || fail "no fitness ticks"
    grep -q 'class="sigma-tick"' "$r/convergence.svg" || fail "no sigma ticks"
    expect_in "$r/convergence.svg" "best fitness (log scale)"
    expect_in "$r/convergence.svg" ">Convergence of results</text>"
    # redrawn from the logbook alone: the same file, replaced atomically
    mv "$r/convergence.svg" "$SCRATCH/by-driver.svg"
    echo stale > "$r/convergence.svg"
    (cd "$SCRATCH" && "$EVO" plot results) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "plot failed"; }
    [ ! -s "$SCRATCH/out" ] || { cat "$SCRATCH/out"; fail "plot printed something"; }
    cmp "$SCRATCH/by-driver.svg" "$r/convergence.svg" || fail "plot DIR differs from the driver's plot"
    ls "$r" | grep -q '\.tmp\.' && fail "a temporary was left"
    [ "$(stat -c %a "$r/convergence.svg")" = 644 ] || fail "mode"
    echo "    $(wc -l < "$r/logbook.csv") logbook lines, 2 restarts; $(stat -c %s "$r/convergence.svg") bytes of SVG"
}

# -o FILE and -o - (standard output), --title; a directory others may
# write is refused for DIR/convergence.svg but may be read with -o.
t_plot_output_and_title() {
    local d="$SCRATCH/p"
    rm -rf "$d" && mkdir "$d"
    printf 'gen,nevals,avg,std,min,max\n0,50,30,5,20,40\n1,50,20,5,10,30\n2,50,8,2,4,12\n' > "$d/logbook.csv"
    "$EVO" plot "$d" -o "$SCRATCH/elsewhere.svg" --title 'DEAP <run> & "more"' || fail "plot -o failed"
    [ ! -e "$d/convergence.svg" ] || fail "wrote DIR/convergence.svg with -o"
    render "$SCRATCH/elsewhere.svg"
    expect_in "$SCRATCH/elsewhere.svg" "DEAP &lt;run&gt; &amp; &quot;more&quot;"
    expect_in "$SCRATCH/elsewhere.svg" "3 generations, 150 evaluations, best 4, 0 restarts"
    expect_in "$SCRATCH/elsewhere.svg" "not in the logbook"
    "$EVO" plot "$d" -o - > "$SCRATCH/stdout.svg" || fail "plot -o - failed"
    cmp "$SCRATCH/stdout.svg" <("$EVO" plot "$d" -o - ) || fail "not the same twice"
    grep -q '^<?xml' "$SCRATCH/stdout.svg" || fail "-o - printed no SVG"
    chmod 0777 "$d"
    "$EVO" plot "$d" > "$SCRATCH/out" 2>&1 && fail "wrote into a directory others may write"
    expect_in "$SCRATCH/out" "may be written by group or others (chmod go-w it)"
    expect_in "$SCRATCH/out" "(-o FILE writes the plot elsewhere)"
    "$EVO" plot "$d" -o "$SCRATCH/elsewhere.svg" || fail "cannot read it with -o"
    chmod 0755 "$d"
}

# A logbook with only its header, one row, failures only, an exact 0, or
# values below zero: each still a picture that renders and says what it
# shows.
t_plot_edge_logbooks_render() {
    local d="$SCRATCH/edge" h="gen,nevals,avg,std,min,max,sigma,restart"
    rm -rf "$d" && mkdir "$d"
    printf '%s\n' "$h" > "$d/logbook.csv"
    "$EVO" plot "$d" && render "$d/convergence.svg"
    expect_in "$d/convergence.svg" "no data: the logbook has no rows yet"
    printf '%s\n0,12,3,1,2,5,1.5,0\n' "$h" > "$d/logbook.csv"
    "$EVO" plot "$d" && render "$d/convergence.svg"
    expect_in "$d/convergence.svg" "1 generation, 12 evaluations, best 2, 0 restarts"
    printf '%s\n0,12,inf,nan,inf,inf,2,0\n1,12,inf,nan,inf,inf,2,0\n' "$h" > "$d/logbook.csv"
    "$EVO" plot "$d" && render "$d/convergence.svg"
    expect_in "$d/convergence.svg" "no data: no finite fitness in 2 rows"
    printf '%s\n0,12,3,1,2,5,1.5,0\n1,12,3,1,0,5,1,0\n' "$h" > "$d/logbook.csv"
    "$EVO" plot "$d" && render "$d/convergence.svg"
    expect_in "$d/convergence.svg" "best fitness (log scale; 0 on the bottom edge)"
    printf '%s\n0,12,3,1,2,5,1.5,0\n1,12,3,1,-7.5,5,1,0\n2,24,3,1,-9,5,2,1\n' "$h" > "$d/logbook.csv"
    "$EVO" plot "$d" && render "$d/convergence.svg"
    expect_in "$d/convergence.svg" "linear scale: some values are below 0"
    [ "$(grep -c 'class="restart"' "$d/convergence.svg")" = 1 ] || fail "not one restart marker"
}

# Bad input: exit status 1 (2 for bad arguments), one line naming the
# file and line, and an existing plot left as it was.
t_plot_bad_input() {
    local d="$SCRATCH/bad" rc
    rm -rf "$d" && mkdir "$d"
    "$EVO" plot "$SCRATCH/nowhere" > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
    [ $rc = 1 ] || fail "missing DIR: exit status $rc"
    [ "$(cat "$SCRATCH/out")" = "evo-farm: plot: $SCRATCH/nowhere: No such file or directory" ] || fail "$(cat "$SCRATCH/out")"
    [ ! -e "$SCRATCH/nowhere" ] || fail "plot created the directory"
    "$EVO" plot "$d" > "$SCRATCH/out" 2>&1 && fail "plotted without a logbook"
    [ "$(cat "$SCRATCH/out")" = "evo-farm: plot: $d/logbook.csv: No such file or directory" ] || fail "$(cat "$SCRATCH/out")"
    echo "the old plot" > "$d/convergence.svg"
    printf 'gen,nevals,avg,std,min,max\n0,10,1,0,1,1\n1,10,1,0\n' > "$d/logbook.csv"
    "$EVO" plot "$d" > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
    [ $rc = 1 ] || fail "short row: exit status $rc"
    [ "$(cat "$SCRATCH/out")" = "evo-farm: plot: $d/logbook.csv:3: 4 fields, but the header names 6" ] || fail "$(cat "$SCRATCH/out")"
    printf 'gen,nevals,avg,std,min,max\n0,10,1,0,oops,1\n' > "$d/logbook.csv"
    "$EVO" plot "$d" > "$SCRATCH/out" 2>&1 && fail "accepted a bad number"
    [ "$(cat "$SCRATCH/out")" = "evo-farm: plot: $d/logbook.csv:2: min is not a number: 'oops'" ] || fail "$(cat "$SCRATCH/out")"
    printf 'generation,best\n0,1\n' > "$d/logbook.csv"
    "$EVO" plot "$d" > "$SCRATCH/out" 2>&1 && fail "accepted a header without min"
    expect_in "$SCRATCH/out" "$d/logbook.csv:1: the header names no min column"
    [ "$(wc -l < "$SCRATCH/out")" = 1 ] || fail "not one line"
    [ "$(cat "$d/convergence.svg")" = "the old plot" ] || fail "the old plot was changed"
    head -c 3000 /dev/urandom > "$d/logbook.csv"
    "$EVO" plot "$d" > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
    [ $rc = 1 ] || fail "random bytes: exit status $rc"
    [ "$(wc -l < "$SCRATCH/out")" = 1 ] || fail "random bytes: not one line"
    for args in "plot" "plot $d extra" "plot $d -o" "plot $d --bogus"; do
        "$EVO" $args > "$SCRATCH/out" 2>&1 && rc=0 || rc=$?
        [ $rc = 2 ] || fail "'$args': exit status $rc, not 2"
        grep -q "^evo-farm: plot: " "$SCRATCH/out" || fail "'$args': no message"
    done
    "$EVO" --help | grep -q "evo-farm plot DIR" || fail "--help does not list plot"
}

# A run checkpointed by an evo-farm whose logbook had no sigma and restart
# columns, resumed: the kept rows get them empty, the new rows are whole
# (as an uninterrupted run's), and the plot reads it.
t_plot_resume_of_an_old_logbook() {
    local cfg r="$SCRATCH/results"; cfg=$(plot_config)
    sed -i 's/^  generations: 400/  generations: 7\n  checkpoint: 5/' "$cfg"
    rm -rf "$r" "$SCRATCH/whole"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q > /dev/null 2>&1 && cp -r results whole) || fail "run failed"
    grep -q "^generations 5$" "$r/checkpoint" || fail "no checkpoint at generation 5"
    cut -d, -f1-6 "$SCRATCH/whole/logbook.csv" > "$r/logbook.csv"
    (cd "$SCRATCH" && "$EVO" run "$cfg" -n 1 -q --resume results) > "$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; fail "resume failed"; }
    { head -1 "$SCRATCH/whole/logbook.csv"
      sed -n '2,6p' "$SCRATCH/whole/logbook.csv" | cut -d, -f1-6 | sed 's/$/,,/'
      sed -n '7,$p' "$SCRATCH/whole/logbook.csv"; } > "$SCRATCH/expected.csv"
    diff "$SCRATCH/expected.csv" "$r/logbook.csv" || fail "the resumed logbook is not the old rows with empty fields and whole new ones"
    (cd "$SCRATCH" && "$EVO" plot results) || fail "cannot plot the resumed logbook"
    render "$r/convergence.svg"
}
