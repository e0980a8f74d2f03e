"""The tutorial's DEAP script with evofarm.futures: the same logbook as with
the builtin map for a fixed seed, also when a worker is killed mid-run."""
import json
import os
import signal
import subprocess
import time

from conftest import EVO, PY, ROOT

SCRIPT = ROOT / "examples" / "deap" / "evolution.py"


def reference(tmp_path, n, ngen, seed):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    subprocess.run([PY, str(SCRIPT), str(n), "--seed", str(seed), "--ngen", str(ngen), "--builtin-map"],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    return (tmp_path / ("logbook_c%d.txt" % n)).read_text()


def test_logbook_identical_to_builtin_map(farm, tmp_path):
    p = farm.run(SCRIPT, 5, "--seed", 7, "--ngen", 30)
    got = (tmp_path / "logbook_c5.txt").read_text()
    solutions = json.loads((tmp_path / "solutions_c5_n2.json").read_text())
    assert set(solutions) == {"solution", "fit", "time", "cores", "dimensions"}, solutions
    assert solutions["cores"] == 2 and solutions["dimensions"] == 5 and len(solutions["solution"]) == 5
    assert (tmp_path / "conv.pdf").exists()
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    assert got == reference(ref_dir, 5, 30, 7), p.stdout
    assert got.count("\n") == 31  # header + 30 generations


def test_logbook_identical_with_a_worker_killed(farm, tmp_path):
    cfg = farm.config()
    proc = subprocess.Popen([EVO, "run", str(cfg), "-n", "3", "--", PY, str(SCRIPT), "10", "--seed", "11",
                             "--ngen", "150"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the run's own workers (children of this evo-farm, by PID), killed as
    # soon as they are there: a fixed wait could outlast a fast run
    victims = []
    for _ in range(200):
        workers = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "__worker"], capture_output=True, text=True)
        victims = workers.stdout.split()
        if len(victims) == 3:
            break
        time.sleep(0.05)
    assert victims, "no worker process found"
    time.sleep(0.3)  # into the run: the driver has started mapping
    assert proc.poll() is None, "the run ended before a worker could be killed"
    os.kill(int(victims[0]), signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    got = (tmp_path / "logbook_c10.txt").read_text()
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    assert got == reference(ref_dir, 10, 150, 11)
    assert "killed by signal 9; restarting it" in err, err[-1500:]
    assert " evaluations done, 0 failed" in err, err[-1500:]
