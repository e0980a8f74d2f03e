"""A node's Python evaluators are forked from one fork server that has
imported the driver's script once (docs/python.md, "How a worker
starts"): the script's top runs once per node, not once per worker or per
restart; each child draws its own random numbers; an evaluator that dies
is forked again; a fork server killed is started again; nothing is left
running after the farm; `start: spawn` starts each evaluator afresh."""
import os
import subprocess
import time

from conftest import EVO, PY, own_pids, plain_env, run_script

SCRIPT = '''
import os, random, sys
import numpy                            # imported by the fork server: its generator must not be shared
with open("imports.log", "a") as f:     # the script's top: once per interpreter that imports it
    f.write("%d\\n" % os.getpid())
from evofarm import futures

def draw(i):
    if i == 7 and not os.path.exists("died"):
        open("died", "w").close()
        os._exit(3)                      # this evaluator dies once: it is forked again, the call retried
    return os.getpid(), random.random(), float(numpy.random.random())

if __name__ == "__main__":
    got = list(futures.map(draw, range(40), chunksize=1))
    pids = {p for p, _, _ in got}
    print("evaluators", len(pids))
    print("draws", len({r for _, r, _ in got}) == 40, len({n for _, _, n in got}) == 40)
    with open("imports.log") as f:
        print("imports", len([line for line in f if int(line) != os.getpid()]))
'''


def lines(p):
    return dict(line.split(" ", 1) for line in p.stdout.splitlines() if " " in line)


def test_a_local_farm_forks_its_evaluators_from_the_driver(tmp_path):
    p = run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="3")
    out = lines(p)
    assert out["imports"] == "0", p.stdout + p.stderr[-2000:]       # the driver's own import only, not 3 more
    assert int(out["evaluators"]) >= 4, p.stdout                      # 3, and the one forked after the death
    assert out["draws"] == "True True", p.stdout                      # random and numpy reseeded in each child


def test_the_script_is_imported_once_per_node(farm, tmp_path):
    (tmp_path / "draw.py").write_text(SCRIPT)
    p = subprocess.run([EVO, "run", str(farm.config()), "-n", "3", "--", PY, "draw.py"], cwd=tmp_path,
                       env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    out = lines(p)
    assert out["imports"] == "1", p.stdout + p.stderr[-2000:]       # the node's fork server's, not 3 + 1
    assert int(out["evaluators"]) >= 4, p.stdout
    assert out["draws"] == "True True", p.stdout


# A kernel without pidfd_open (before Linux 5.3; valgrind has none
# either): the fork server watches its children by SIGCHLD instead (it
# died at its first fork, and every worker started its own interpreter).
# seccomp makes the call fail here as such a kernel does.
NO_PIDFD = """\
import errno, os, sys, seccomp
f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "pidfd_open")
f.load()
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_a_kernel_without_pidfds_still_forks(farm, tmp_path):
    (tmp_path / "draw.py").write_text(SCRIPT)
    (tmp_path / "no_pidfd.py").write_text(NO_PIDFD)
    p = subprocess.run([PY, "no_pidfd.py", EVO, "run", str(farm.config()), "-n", "3", "--", PY, "draw.py"],
                       cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    out = lines(p)
    assert out["imports"] == "1", p.stdout + p.stderr[-2000:]       # one server, which forked every evaluator
    assert int(out["evaluators"]) >= 4, p.stdout                      # the death seen, the evaluator forked again
    assert "starts its own interpreter" not in p.stderr, p.stderr[-2000:]
    for name in ("imports.log", "died"):  # the local farm's run counts afresh
        (tmp_path / name).unlink()
    p = subprocess.run([PY, "no_pidfd.py", PY, "draw.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=dict(plain_env(), EVO_FARM_WORKERS="3"))
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    assert lines(p)["imports"] == "0", p.stdout + p.stderr[-2000:]  # a local farm: forked from the driver


def test_spawn_imports_once_per_evaluator(farm, tmp_path):
    (tmp_path / "draw.py").write_text(SCRIPT)
    cfg = farm.config().read_text().replace("evaluate: {python: %s}" % PY, "evaluate: {python: %s, start: spawn}" % PY)
    (tmp_path / "spawn.yaml").write_text(cfg)
    p = subprocess.run([EVO, "run", "spawn.yaml", "-n", "3", "--", PY, "draw.py"], cwd=tmp_path,
                       env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    out = lines(p)
    assert out["imports"] == out["evaluators"], p.stdout + p.stderr[-2000:]  # each evaluator imported it itself


KILL = '''
import os, signal, time
from evofarm import futures

def server(_):
    return os.getppid()                  # a forked evaluator's parent: the fork server

def slow(i):
    time.sleep(0.05)
    return i

if __name__ == "__main__":
    servers = set(futures.map(server, range(8), chunksize=1))
    print("servers", len(servers))
    for pid in servers:
        os.kill(pid, signal.SIGKILL)     # its evaluators die with it: the workers fork anew from a new one
    print("sum", sum(futures.map(slow, range(60), chunksize=1)))
    print("renewed", len(set(futures.map(server, range(8), chunksize=1)) - servers))
'''


def test_a_killed_fork_server_is_started_again(tmp_path):
    p = run_script(tmp_path, KILL, EVO_FARM_WORKERS="2")
    out = lines(p)
    assert out["servers"] == "1" and out["renewed"] == "1", p.stdout + p.stderr[-2000:]
    assert out["sum"] == str(sum(range(60))), p.stdout


def test_nothing_is_left_running(tmp_path):
    run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="2")
    for _ in range(100):  # the server leaves as its last worker does
        if not own_pids(r"evofarm\._forkserver"):
            break
        time.sleep(0.05)
    assert own_pids(r"evofarm\._forkserver") == []
