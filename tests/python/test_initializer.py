"""Executor(max_workers, initializer, initargs) as ProcessPoolExecutor's:
the initializer runs once in each worker process before its first call,
also in a process that replaces one that died; the calls see its state;
bad arguments are refused as ProcessPoolExecutor refuses them."""
from conftest import run_script

SCRIPT = '''
import os, sys
import evofarm

STATE = None

def init(where, value):
    global STATE
    STATE = value
    with open(os.path.join(where, "init.%d" % os.getpid()), "a") as f:
        f.write("ran\\n")

def work(where, x):
    marker = os.path.join(where, "died")
    if x == 77 and not os.path.exists(marker):  # kill this evaluator process once
        open(marker, "w").close()
        os._exit(1)
    return STATE, os.getpid()

if __name__ == "__main__":
    where = sys.argv[1]
    with evofarm.Executor(max_workers=2, initializer=init, initargs=(where, "ready")) as ex:
        results = list(ex.map(work, [where] * 200, range(200)))
    print("states", sorted(set(r[0] for r in results)))
    print("pids", len(set(r[1] for r in results)))
    for bad in (dict(max_workers=0), dict(initializer=5)):
        try:
            evofarm.Executor(**bad)
        except (ValueError, TypeError) as e:
            print("refused", type(e).__name__)
'''


def test_initializer_once_per_worker_process(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    p = run_script(tmp_path, SCRIPT, runs)
    lines = p.stdout.splitlines()
    assert lines[0] == "states ['ready']", p.stdout
    assert lines[2:] == ["refused ValueError", "refused TypeError"], p.stdout
    files = sorted(runs.glob("init.*"))
    assert (runs / "died").exists()
    # two workers' first processes and the one that replaced the killed one
    assert len(files) >= 3, files
    assert all(f.read_text() == "ran\n" for f in files), [f.read_text() for f in files]
