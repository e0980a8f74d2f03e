"""The journal (output.journal, evo-farm run --journal): the tutorial's
seeded DEAP script killed at generation 10 of 20 and run again with the
same journal gives the uninterrupted run's logbook, and the generations
already done cost no evaluation: every task the killed run finished is
answered from the journal, only the rest is evaluated."""
import re
import subprocess

from conftest import EVO, PY, ROOT
from test_deap import reference

SCRIPT = ROOT / "examples" / "deap" / "evolution.py"

# The tutorial's script as it is, with a crash after the 10th generation's
# update when KILL_AT is set (kill -9 of the driver: nothing of it survives).
# Under the main guard: the workers import the driver's script too.
WRAPPER = """\
import os, runpy, signal, sys
from deap import cma
if __name__ == "__main__":
    kill_at = int(os.environ.get("KILL_AT", "0"))
    done = [0]
    update = cma.Strategy.update
    def counted(self, population):
        update(self, population)
        done[0] += 1
        if done[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    cma.Strategy.update = counted
    sys.argv = [%r, "5", "--seed", "7", "--ngen", "20"]
    runpy.run_path(%r, run_name="__main__")
""" % (str(SCRIPT), str(SCRIPT))


def counts(err):
    done = int(re.search(r"evo-farm: (\d+) evaluations done", err).group(1))
    hits = re.search(r"evo-farm: (\d+) evaluations answered from the journal", err)
    known = re.search(r"journal \S+: (\d+) answers", err)
    return done, int(hits.group(1)) if hits else 0, int(known.group(1)) if known else None


def run(farm, tmp_path, journal, kill_at=0):
    (tmp_path / "wrapper.py").write_text(WRAPPER)
    cmd = [EVO, "run", str(farm.config()), "-n", "2"] + (["--journal", str(journal)] if journal else []) + \
        ["--", PY, "wrapper.py"]
    env = dict(__import__("os").environ, KILL_AT=str(kill_at))
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)


def test_killed_deap_run_resumes_from_the_journal(farm, tmp_path):
    journal = tmp_path / "journal"
    # uninterrupted, with a journal of its own: its maps cut as the
    # journaled runs cut theirs (EVO_FARM_JOURNALED: as Pool.map does)
    full = run(farm, tmp_path, tmp_path / "journal-full")
    assert full.returncode == 0, full.stderr[-2000:]
    all_tasks = counts(full.stderr)[0]
    (tmp_path / "logbook_c5.txt").unlink()

    killed = run(farm, tmp_path, journal, kill_at=10)
    assert killed.returncode != 0 and not (tmp_path / "logbook_c5.txt").exists(), killed.stderr[-2000:]

    rerun = run(farm, tmp_path, journal)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    done, hits, known = counts(rerun.stderr)
    got = (tmp_path / "logbook_c5.txt").read_text()
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    assert got == reference(ref_dir, 5, 20, 7)
    # the killed run recorded the first 10 generations' tasks, exactly half
    assert known == all_tasks // 2, (known, all_tasks, rerun.stderr[-1500:])
    assert hits == known and done == all_tasks - known, (done, hits, known, all_tasks)
    print("tasks: %d in all; rerun: %d from the journal, %d evaluated" % (all_tasks, hits, done))


RAISES_ONCE = """\
import os, sys
from evofarm import futures

def value(x):
    if not os.path.exists("fixed"):
        raise ImportError("a worker that lacks a module: %d" % x)
    return x * 2

if __name__ == "__main__":
    try:
        print(sum(futures.map(value, range(4))))
    except ImportError as e:
        print("raised:", e)
"""


def test_a_raised_exception_is_never_journaled(farm, tmp_path):
    """A call that raised (a broken worker's ImportError) is not an answer
    to serve again: the rerun with the same journal calls it again."""
    (tmp_path / "raises.py").write_text(RAISES_ONCE)
    cmd = [EVO, "run", str(farm.config()), "-n", "1", "--journal", str(tmp_path / "journal"), "--", PY, "raises.py"]
    first = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "raised: a worker that lacks a module" in first.stdout, first.stderr[-2000:]
    (tmp_path / "fixed").write_text("")
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and rerun.stdout.strip() == "12", rerun.stdout + rerun.stderr[-2000:]
    assert counts(rerun.stderr)[1] == 0, rerun.stderr[-2000:]
