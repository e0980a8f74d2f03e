"""Executor(max_workers, initializer, initargs) as ProcessPoolExecutor's:
the initializer runs once in each worker process before its first call,
also in a process that replaces one that died; the calls see its state;
bad arguments are refused as ProcessPoolExecutor refuses them."""
import subprocess

from conftest import PY
from test_embedded import plain_env

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
    (tmp_path / "init.py").write_text(SCRIPT)
    runs = tmp_path / "runs"
    runs.mkdir()
    p = subprocess.run([PY, "init.py", str(runs)], cwd=tmp_path, env=plain_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.splitlines()
    assert lines[0] == "states ['ready']", p.stdout
    assert lines[2:] == ["refused ValueError", "refused TypeError"], p.stdout
    files = sorted(runs.glob("init.*"))
    assert (runs / "died").exists()
    # two workers' first processes and the one that replaced the killed one
    assert len(files) >= 3, files
    assert all(f.read_text() == "ran\n" for f in files), [f.read_text() for f in files]
