"""What the libraries people use do with an executor (pyABC's
ConcurrentFutureSampler, BluePyOpt's and DEAP's map_function, plain
concurrent.futures code), reproduced here since the libraries are not
Debian packages (docs/python.md, "Libraries"): submit many, take results
as they complete, cancel the rest once enough are accepted, and exit
without shutdown() with calls still running. Results right, exit status
0, and not a word on stderr from the workers or their evaluators."""
import os
import subprocess

from conftest import EVO, PY, run_script

ENOUGH = '''
import sys, time
import concurrent.futures as cf
import evofarm

def simulate(i):                   # a model run: slow enough that many are in flight at the end
    time.sleep(0.05 * (i % 4))
    return i, i % 3 == 0           # (particle, accepted)

def generation(executor, wanted):  # as pyABC's ConcurrentFutureSampler samples one generation
    running = [executor.submit(simulate, i) for i in range(40)]
    accepted = []
    for f in cf.as_completed(running):
        particle, ok = f.result()
        if ok:
            accepted.append(particle)
        if len(accepted) == wanted:
            break
    for f in running:              # the rest are not needed: cancelled, never awaited
        f.cancel()
    return accepted

if __name__ == "__main__":
    executor = evofarm.Executor()  # never shut down, as in pyABC's documentation
    for g in range(3):
        accepted = generation(executor, 4)
        print("generation", g, len(accepted), all(p % 3 == 0 for p in accepted))
    sys.stdout.flush()
'''

QUIET = ("Traceback", "error", "Error", "broker is gone", "warning")


def assert_enough(p):
    lines = [line for line in p.stdout.splitlines() if line.startswith("generation")]
    assert lines == ["generation %d 4 True" % g for g in range(3)], p.stdout + p.stderr[-2000:]
    noise = [line for line in p.stderr.splitlines() if any(word in line for word in QUIET)]
    assert not noise, p.stderr[-3000:]


def test_enough_accepted_then_exit_with_calls_running(tmp_path):
    assert_enough(run_script(tmp_path, ENOUGH, EVO_FARM_WORKERS="2"))


def test_enough_accepted_then_exit_with_calls_running_under_evo_farm_run(farm, tmp_path):
    (tmp_path / "enough.py").write_text(ENOUGH)
    p = subprocess.run([EVO, "run", str(farm.config()), "-n", "2", "--", PY, "enough.py"], cwd=tmp_path,
                       env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    assert_enough(p)


DROP_IN = '''
import os
import evofarm                     # and nothing else: evofarm.futures, as pyABC's examples write it

def where(tag):
    return tag, os.environ.get("READY")

def init(value):
    os.environ["READY"] = value

if __name__ == "__main__":
    print("map", list(evofarm.futures.map(abs, [-1, -2], timeout=-1)))   # SCOOP's "no limit"
    with evofarm.Executor(2, None, init, ("yes",)) as ex:                  # ProcessPoolExecutor's order
        print("init", sorted(set(ex.map(where, ["a"] * 4))))
    try:
        evofarm.Executor(max_tasks_per_child=5)
    except ValueError as e:
        print("refused", "max_tasks_per_child" in str(e))
'''


def test_drop_in_names_and_order(tmp_path):
    p = run_script(tmp_path, DROP_IN, EVO_FARM_WORKERS="2")
    assert p.stdout.splitlines() == ["map [1, 2]", "init [('a', 'yes')]", "refused True"], p.stdout + p.stderr[-2000:]
