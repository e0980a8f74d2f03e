"""A worker is the driver's twin (docs/python.md, "How calls travel"): the
same directory, sys.argv and sys.path, as multiprocessing's spawn gives its
children, so that what libraries and scripts do in the driver works on the
workers: DEAP's examples open data files by relative paths, the tutorial
reads sys.argv at the top of the script, pytest puts a test's own folder on
sys.path. And SCOOP's meaning of SCOOP's names: wait(timeout=-1) waits."""
import os
import subprocess

from conftest import EVO, PY, run_script

TWIN = '''
import os, sys
sys.path.insert(0, os.path.abspath("lib"))   # as pytest does for a test's folder
import shapes                                 # found only through that entry
SIDE = int(sys.argv[1])                       # read at the top, on every worker too
from evofarm import futures

def area(_):
    with open("data.txt") as f:               # a relative path: the driver's directory
        return SIDE * SIDE * int(f.read()), shapes.Square(SIDE).area()

if __name__ == "__main__":
    print("areas", sorted(set(futures.map(area, range(8), chunksize=1))))
'''


def twin_files(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "shapes.py").write_text(
        "class Square:\n    def __init__(self, side):\n        self.side = side\n\n"
        "    def area(self):\n        return self.side * self.side\n")
    (tmp_path / "data.txt").write_text("2")


def test_a_local_farms_workers_are_the_drivers_twins(tmp_path):
    twin_files(tmp_path)
    p = run_script(tmp_path, TWIN, 3, EVO_FARM_WORKERS="2")
    assert "areas [(18, 9)]" in p.stdout, p.stdout + p.stderr[-2000:]


def test_evo_farm_runs_workers_with_the_drivers_arguments(farm, tmp_path):
    twin_files(tmp_path)
    (tmp_path / "twin.py").write_text(TWIN)
    cfg = farm.config()
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "lib"))  # evo-farm run passes the environment, not sys.path
    p = subprocess.run([EVO, "run", str(cfg), "-n", "2", "--", PY, "twin.py", "4"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "areas [(32, 16)]" in p.stdout, p.stdout + p.stderr[-2000:]


# The driver adds a folder to sys.path at run time, under its main guard
# (as pytest does before it imports a test): the workers do not run that
# block, and unpickle objects of classes from that folder all the same.
LATE_PATH = '''
import os, sys
from evofarm import futures

def area(shape):
    with open("data.txt") as f:
        return shape.area() * int(f.read()), len(sys.argv), os.path.basename(os.getcwd())

if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath("lib"))
    import shapes
    print("areas", sorted(set(futures.map(area, [shapes.Square(int(sys.argv[1]))] * 8, chunksize=1))))
'''


def test_a_path_the_driver_adds_at_run_time_reaches_the_workers(farm, tmp_path):
    twin_files(tmp_path)
    (tmp_path / "late.py").write_text(LATE_PATH)
    cfg = farm.config()
    os.mkdir(tmp_path / "elsewhere")  # the workers run where evo-farm run was started, not beside the YAML file
    os.rename(cfg, tmp_path / "elsewhere" / "farm.yaml")
    p = subprocess.run([EVO, "run", "elsewhere/farm.yaml", "-n", "2", "--", PY, "late.py", "5", "x"], cwd=tmp_path,
                       env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    assert "areas [(50, 3, %r)]" % tmp_path.name in p.stdout, p.stdout + p.stderr[-2000:]


WAIT = '''
import time
from evofarm import futures

def nap(t):
    time.sleep(t)
    return t

if __name__ == "__main__":
    fs = [futures.submit(nap, 0.3) for _ in range(4)]
    done, not_done = futures.wait(fs, timeout=-1)   # SCOOP's default: no limit
    print("done", len(done), "not done", len(not_done))
    fs = [futures.submit(nap, 0.3) for _ in range(2)]
    print("completed", sum(1 for _ in futures.as_completed(fs, timeout=-1)))
'''


def test_scoops_negative_timeout_waits_without_limit(tmp_path):
    p = run_script(tmp_path, WAIT, EVO_FARM_WORKERS="2")
    assert "done 4 not done 0" in p.stdout and "completed 2" in p.stdout, p.stdout + p.stderr[-2000:]
