"""scoop.shared's setConst/getConst: a 100 MB constant crosses the broker
once per worker process (the broker logs each send; a worker that replaces
a killed one gets it too), not once per call; constants cannot change."""
import re

from conftest import run_script

SCRIPT = '''
import os, sys, zlib
from evofarm import futures, shared

def probe(i):
    big = shared.getConst("big")
    if i == 20 and not os.path.exists("killed"):  # once: this worker dies, another takes its place
        open("killed", "w").close()
        os.kill(int(os.environ["EVO_FARM_MEMBER_PID"]), 9)
    return len(big), zlib.crc32(big), shared.getConst("small"), shared.getConst("missing", timeout=0.01)

if __name__ == "__main__":
    big = os.urandom(1 << 20) * 100   # 100 MiB
    shared.setConst(big=big, small={"a": [1, 2]})
    crc = zlib.crc32(big)
    out = list(futures.map(probe, range(60), chunksize=1))
    print(all(o == (len(big), crc, {"a": [1, 2]}, None) for o in out))
    try:
        shared.setConst(small=3)
    except TypeError as exc:
        print(exc)
    print(shared.getConst("small"), shared.getConst("missing"))
'''


def test_constant_sent_once_per_worker_process(tmp_path):
    p = run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="2", EVO_FARM_LOG="info", timeout=300)
    assert p.stdout.split("\n")[:3] == ["True", "This constant already exists: small.", "{'a': [1, 2]} None"], \
        p.stdout + p.stderr[-2000:]
    sends = re.findall(r"constant 'big' \((\d+) bytes\) sent to worker (\d+)", p.stderr)
    workers = set(re.findall(r"worker (\d+) joined", p.stderr))
    assert len(workers) == 3, p.stderr[-3000:]  # two, then the one replacing the killed one
    assert sorted(w for _, w in sends) == sorted(workers), sends  # once each: 3 x 100 MiB, not 60 x
    assert all(int(n) > 100 << 20 for n, _ in sends)


BIG = '''
import sys, zlib
from evofarm import futures, shared

def probe(i):
    big = shared.getConst("big", timeout=60)
    return len(big), zlib.crc32(big)

if __name__ == "__main__":
    big = bytes(range(256)) * (((1 << 30) - 4096) // 256)   # 1 GiB less 4 KiB: the limit, once pickled
    shared.setConst(big=big)
    crc = zlib.crc32(big)
    del big
    out = list(futures.map(probe, range(4), chunksize=1))
    print(all(o == ((1 << 30) - 4096, crc) for o in out))
'''


def test_a_1_gib_constant_loses_no_worker(tmp_path):
    """The documented limit crosses the Unix socket in pieces, each well
    within heartbeat x liveness: no worker is taken for lost (issue: a 100
    MiB constant made both workers leave a live broker)."""
    p = run_script(tmp_path, BIG, EVO_FARM_WORKERS="2", EVO_FARM_LOG="info", timeout=600)
    assert p.stdout.split("\n")[0] == "True", p.stdout + p.stderr[-2000:]
    assert not re.search(r"silent|worker \d+ \(.*\) lost|restarting", p.stderr), p.stderr[-3000:]
    assert len(set(re.findall(r"worker (\d+) joined", p.stderr))) == 2, p.stderr[-3000:]
    sends = re.findall(r"constant 'big' \((\d+) bytes\) sent to worker (\d+)", p.stderr)
    assert len(sends) == 2 and all(int(n) > (1 << 30) - 4096 for n, _ in sends), sends


NODE = '''
import os, signal, time
from evofarm import futures, shared

def where(i):
    time.sleep(0.01)
    d = os.environ["EVO_FARM_SHARED_DIR"]
    return d, tuple(sorted(n for n in os.listdir(d) if not n.startswith("."))), int(os.environ["EVO_FARM_MEMBER_PID"])

if __name__ == "__main__":
    shared.setConst(table=b"x" * (1 << 20))
    out = list(futures.map(where, range(40), chunksize=1))
    print("dirs", len({d for d, _, _ in out}), "workers", len({p for _, _, p in out}))
    print("files", sorted({f for _, f, _ in out}))
    print("dir", out[0][0])
    for pid in {p for _, _, p in out}:
        os.kill(pid, signal.SIGKILL)  # the workers die without a word: the launcher removes it at the end
'''


def test_one_copy_of_a_constant_per_node(tmp_path):
    """The workers of a node share one directory of constants, one file
    per constant (a 1 GiB constant on 16 workers no longer takes 16 GiB of
    /tmp), and it is gone after the farm even when its workers were killed."""
    import os
    p = run_script(tmp_path, NODE, EVO_FARM_WORKERS="2", timeout=120)
    lines = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    assert lines["dirs"] == "1 workers 2", p.stdout + p.stderr[-2000:]
    assert lines["files"] == "[('table',)]", p.stdout
    assert not os.path.exists(lines["dir"]), lines["dir"]
