# test_python.sh — Python drivers as rank 0 of a step on both nodes: the
# README's literal command line, a bare --evo-farm with no file (also as
# #SBATCH --evo-farm) or a file without evaluate:, and the tutorial's DEAP
# script, each giving the builtin map's logbook.

# The literal command line of the README: no --mpi, no evo-farm in front.
t_literal_command_two_nodes() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/evolution.yaml"
    user_dir "$SCRATCH/literal"
    (cd "$SCRATCH/literal" && timeout -k 10 120 srun --evo-farm=../evolution.yaml -N2 -n6 -O /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 5) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "5 workers connected at the end"
    expect_both_nodes "$SCRATCH/out"
    [ "$(grep -c "best fitness" "$SCRATCH/out")" = 1 ] || fail "the driver did not run exactly once"
    # evo-farm given explicitly is not wrapped twice
    (cd "$SCRATCH/literal" && timeout -k 10 120 srun --evo-farm=../evolution.yaml -N2 -n3 "$EVO" /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 2) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "2 workers connected at the end"
}

# No file at all: a bare --evo-farm is a farm of every default whose
# workers run the Python driver's interpreter (also as #SBATCH --evo-farm);
# the same from a file without evaluate:; and a driver that is not Python
# gets one line saying what is missing.
t_no_file_python_driver() {
    user_dir "$SCRATCH/bare" "$SCRATCH/bare-ref"
    (cd "$SCRATCH/bare" && timeout -k 10 120 srun --evo-farm -N2 -n4 /usr/bin/python3 "$ROOT/examples/deap/evolution.py" 5 \
        --seed 5 --ngen 10) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun --evo-farm failed"; }
    expect_in "$SCRATCH/out" "3 workers connected at the end"
    expect_both_nodes "$SCRATCH/out"
    (cd "$SCRATCH/bare-ref" && PYTHONPATH="$ROOT/python" /usr/bin/python3 "$ROOT/examples/deap/evolution.py" 5 --seed 5 \
        --ngen 10 --builtin-map > /dev/null 2>&1) || fail "reference run failed"
    cmp "$SCRATCH/bare/logbook_c5.txt" "$SCRATCH/bare-ref/logbook_c5.txt" || fail "logbook differs from the builtin map's"
    cat > "$SCRATCH/bare.sh" <<JOB
#!/bin/sh
#SBATCH --evo-farm
#SBATCH -N2 -n4
srun /usr/bin/python3 $ROOT/examples/deap/evolution.py 5 --seed 5 --ngen 3
JOB
    run_job "$SCRATCH/bare" ../bare.sh "$SCRATCH/bare.out"
    expect_in "$SCRATCH/bare.out" "3 workers connected at the end"
    printf 'farm: {retries: 2}\n' > "$SCRATCH/noeval.yaml" # the default heartbeat: a loaded machine stalls 600 ms
    (cd "$SCRATCH/bare" && timeout -k 10 120 srun --evo-farm=../noeval.yaml -N2 -n3 /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 2) > "$SCRATCH/out" 2>&1 || { tail "$SCRATCH/out"; fail "no evaluate: failed"; }
    expect_in "$SCRATCH/out" "2 workers connected at the end"
    (cd "$SCRATCH" && timeout -k 10 60 srun --evo-farm=noeval.yaml -N1 -n2 /bin/true) > "$SCRATCH/out" 2>&1 && fail "accepted"
    expect_in "$SCRATCH/out" "has no evaluate: section: say how the workers evaluate"
}

# The tutorial's DEAP script as rank 0's driver with evofarm.futures, its
# fitness calls on the other tasks of both nodes: the same logbook as the
# builtin map gives with the same seed.
t_deap_tutorial_two_nodes() {
    printf 'evaluate: {python: /usr/bin/python3}\n' > "$SCRATCH/deap.yaml"
    user_dir "$SCRATCH/deap" "$SCRATCH/deap-ref"
    (cd "$SCRATCH/deap" && timeout -k 10 120 srun --evo-farm=../deap.yaml -N2 -n6 -O "$EVO" /usr/bin/python3 \
        "$ROOT/examples/deap/evolution.py" 5 --seed 5 --ngen 30) > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_both_nodes "$SCRATCH/out"
    (cd "$SCRATCH/deap-ref" && PYTHONPATH="$ROOT/python" /usr/bin/python3 "$ROOT/examples/deap/evolution.py" 5 --seed 5 \
        --ngen 30 --builtin-map > /dev/null 2>&1) || fail "reference run failed"
    cmp "$SCRATCH/deap/logbook_c5.txt" "$SCRATCH/deap-ref/logbook_c5.txt" || fail "logbook differs from the builtin map's"
    grep -q '"cores": 5' "$SCRATCH/deap/solutions_c5_n5.json" || fail "solutions json does not say 5 cores"
}

# The workers are the driver's twins on both nodes (docs/python.md, "How
# calls travel"): the task's directory (srun's, not the YAML file's), the
# driver's sys.argv (read at the script's top) and the folder it put on
# sys.path under its main guard.
t_workers_are_the_drivers_twins_two_nodes() {
    printf 'evaluate: {python: /usr/bin/python3}\nfarm: {retries: 0}\n' > "$SCRATCH/twin.yaml"
    user_dir "$SCRATCH/twin" "$SCRATCH/twin/lib"
    printf 'class Square:\n    def __init__(self, side):\n        self.side = side\n\n    def area(self):\n        return self.side * self.side\n' \
        > "$SCRATCH/twin/lib/shapes.py"
    echo 2 > "$SCRATCH/twin/data.txt"
    cat > "$SCRATCH/twin/twin.py" <<'PY'
import os, socket, sys, time
SIDE = int(sys.argv[1])                      # read at the top, on every worker too
from evofarm import futures

def area(shape):
    time.sleep(0.1)                          # long enough for every worker to take some
    with open("data.txt") as f:              # the task's directory
        return shape.area() * SIDE * int(f.read()), socket.gethostname()

if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath("lib"))
    import shapes
    got = list(futures.map(area, [shapes.Square(3)] * 40, chunksize=1))
    print("areas", sorted(set(a for a, _ in got)), "hosts", len(set(h for _, h in got)))
PY
    chown -R "$TEST_USER:" "$SCRATCH/twin"
    (cd "$SCRATCH/twin" && timeout -k 10 120 srun --evo-farm=../twin.yaml -N2 -n4 /usr/bin/python3 twin.py 4) \
        > "$SCRATCH/out" 2>&1 || { tail -20 "$SCRATCH/out"; fail "srun failed"; }
    expect_in "$SCRATCH/out" "areas [72] hosts 2"
}
