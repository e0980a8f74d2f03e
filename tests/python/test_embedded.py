"""A script that uses evofarm outside any farm starts a local farm for
itself: plain `python3 evolution.py` (the tutorial's script, one changed
import) and `python3 -m evofarm -n N script.py`, nothing to write, the same
logbook as the builtin map, the farm's size as asked, and nothing left
running afterwards."""
import json
import os
import subprocess

from conftest import PY, own_pids, plain_env, run_script
from test_deap import SCRIPT, reference


def farms_left():
    """This session's local farms still running: their launcher's command
    line names the configuration the package wrote in a directory
    evofarm-XXXX."""
    return own_pids(r"evofarm-[^ ]*/farm\.yaml")


def test_plain_python_runs_on_a_local_farm(tmp_path):
    # Another user's embedded farm on the same machine (a process whose
    # command line looks like one, without this session's mark) is no farm
    # this test left behind.
    other_env = {k: v for k, v in os.environ.items() if k != "EVO_TEST_MARK"}
    other = subprocess.Popen([PY, "-c", "import time; time.sleep(120)", "/tmp/evofarm-other/farm.yaml"],
                             env=other_env)
    try:
        p = subprocess.run([PY, str(SCRIPT), "5", "--seed", "3", "--ngen", "20"], cwd=tmp_path,
                           env=plain_env(EVO_FARM_WORKERS="3"), capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        solutions = json.loads((tmp_path / "solutions_c5_n3.json").read_text())
        assert solutions["cores"] == 3
        ref_dir = tmp_path / "ref"
        ref_dir.mkdir()
        assert (tmp_path / "logbook_c5.txt").read_text() == reference(ref_dir, 5, 20, 3)
        assert farms_left() == []
    finally:
        other.kill()
        other.wait()


def test_python_m_evofarm(tmp_path):
    p = subprocess.run([PY, "-m", "evofarm", "-n", "2", str(SCRIPT), "5", "--seed", "3", "--ngen", "20"],
                       cwd=tmp_path, env=plain_env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads((tmp_path / "solutions_c5_n2.json").read_text())["cores"] == 2
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    assert (tmp_path / "logbook_c5.txt").read_text() == reference(ref_dir, 5, 20, 3)
    bad = subprocess.run([PY, "-m", "evofarm", "-n", "0", str(SCRIPT)], env=plain_env(), capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "-n needs a number of workers of at least 1" in bad.stderr


def test_executor_max_workers_and_a_crash_leaves_nothing(tmp_path):
    script = tmp_path / "crash.py"
    script.write_text("import os, evofarm\n"
                      "def square(x):\n    return x * x\n"
                      "if __name__ == '__main__':\n"
                      "    ex = evofarm.Executor(max_workers=2)\n"
                      "    print(sorted(ex.map(square, range(50)))[-1], os.environ['EVO_FARM_WORKERS'], flush=True)\n"
                      "    os._exit(3)  # no atexit: the farm must still go (its driver sees the pipe close)\n")
    p = subprocess.run([PY, str(script)], cwd=tmp_path, env=plain_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, p.stderr[-2000:]
    assert p.stdout.split() == ["2401", "2"]
    for _ in range(50):  # the farm winds down within a liveness period
        if not farms_left():
            break
        subprocess.run(["sleep", "0.1"])
    assert farms_left() == []


def test_no_evo_farm_command_is_one_clear_error(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("from evofarm import futures\nprint(list(futures.map(abs, [-1])))\n")
    env = plain_env(EVO_FARM_BIN="/nonexistent", BUILD="no-such-build", PATH="/usr/bin:/bin")
    p = subprocess.run([PY, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "no evo-farm command was found to start one" in p.stderr


LOST = '''
import os, signal, subprocess, time
from evofarm import futures, FarmError

def slow(x):
    time.sleep(0.05)
    return x

if __name__ == "__main__":
    list(futures.map(slow, range(4)))
    farm = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "evo-farm run"], capture_output=True,
                          text=True).stdout.split()
    fs = [futures.submit(slow, i) for i in range(100)]
    start = time.monotonic()
    os.kill(int(farm[0]), signal.SIGKILL)  # the broker goes, and its Unix socket with it
    try:
        [f.result() for f in fs]
        print("no error")
    except FarmError as e:
        print("lost after %.1f s:" % (time.monotonic() - start), e)
'''


def test_local_farm_killed_is_one_error_at_once(tmp_path):
    # The script talks to its farm over the broker's Unix socket: when the
    # farm dies the script knows at once, not after heartbeat x liveness.
    p = run_script(tmp_path, LOST, EVO_FARM_WORKERS="2", timeout=60)
    line = p.stdout.strip().splitlines()[-1]
    assert line.startswith("lost after ") and "its connection closed" in line, p.stdout + p.stderr[-1500:]
    assert float(line.split()[2]) < 2.0, line


BROKEN = '''
import concurrent.futures as cf, os, signal, subprocess, time
import evofarm

def slow(x):
    time.sleep(0.05)
    return x

if __name__ == "__main__":
    with evofarm.Executor(max_workers=2) as ex:
        assert list(ex.map(slow, range(4))) == [0, 1, 2, 3]
        farm = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "evo-farm run"], capture_output=True,
                              text=True).stdout.split()
        fs = [ex.submit(slow, i) for i in range(100)]
        os.kill(int(farm[0]), signal.SIGKILL)
        errors = [f.exception(timeout=30) for f in fs]
        kinds = {type(e).__name__ for e in errors}
        print("waiting calls:", " ".join(sorted(kinds)),
              all(isinstance(e, cf.BrokenExecutor) and isinstance(e, evofarm.FarmError) for e in errors))
        for what, call in (("submit", lambda: ex.submit(slow, 1)), ("map", lambda: list(ex.map(slow, [1])))):
            try:
                call()
                print(what, "accepted")
            except cf.BrokenExecutor as e:
                print(what, "refused:", type(e).__name__, e)
'''


def test_executor_whose_farm_is_gone_is_broken(tmp_path):
    # As ProcessPoolExecutor's BrokenProcessPool: code written for
    # concurrent.futures that catches BrokenExecutor (and makes a new pool)
    # sees a farm that went away as a broken executor, not a call's error.
    p = run_script(tmp_path, BROKEN, timeout=60)
    lines = p.stdout.strip().splitlines()
    assert "waiting calls: FarmBroken True" in lines, p.stdout + p.stderr[-1500:]
    for what in ("submit", "map"):
        line = next((l for l in lines if l.startswith(what + " ")), "")
        assert line.startswith(what + " refused: FarmBroken ") and "connection closed" in line, p.stdout


HELD = '''
import os
from evofarm import futures

def held(_):
    """The descriptors this evaluator holds beyond its standard three and
    its frame stream to the worker."""
    from evofarm import _evaluator
    std = {os.readlink("/proc/self/fd/%d" % fd) for fd in (0, 1, 2, _evaluator._out.fileno())}
    extra = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + name)
        except OSError:  # the directory listdir itself held
            continue
        if int(name) > 2 and target not in std:
            extra[int(name)] = target
    return extra

if __name__ == "__main__":
    print("held", sorted(futures.map(held, range(4)), key=len)[-1])
'''


def test_evaluators_inherit_no_descriptor(tmp_path):
    """An evaluator holds its frames and nothing of the processes above it:
    not the ready pipe the package hands the local farm's `evo-farm run`
    (it leaked into every worker and evaluator), nor a worker's sockets."""
    p = run_script(tmp_path, HELD, EVO_FARM_WORKERS="2")
    assert "held {}" in p.stdout, p.stdout + p.stderr[-2000:]
