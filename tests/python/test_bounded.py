"""Bounded memory whatever the size of a map: 10**7
calls through futures.map on 2 workers, every result checked (their sum
against the closed form), with the driver's and the broker's resident
memory (VmRSS) flat between 10 % and 90 % of the run and nothing
materialised up front (the driver's peak, VmHWM); and the input of
every map form read lazily, at most a window of tasks ahead of its
reader, an endless one included, and still read after its executor's
shutdown (submitted then, as concurrent.futures submits at the call)."""
from conftest import PY, run_script

# allowed VmRSS growth, driver and broker each: from before the map to 10 %
# of it, from 10 % to 90 %, and (the driver's) peak over its size before
GROWTH_MIB = 64

MILLIONS = '''
import itertools, os, time
from evofarm import futures

def inc(x):
    return x + 1

def kib(pid, field="VmRSS"):
    """/proc/PID/status's VmRSS (resident now) or VmHWM (its peak), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field + ":"))

def broker():
    """The embedded farm's `evo-farm run` (its broker): our child."""
    for name in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = f.read().split(b"\\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and argv[1:2] == [b"run"]:
            return int(name)
    raise SystemExit("no broker found among our children")

if __name__ == "__main__":
    n = 10 ** 7
    futures.submit(inc, 0).result()  # the farm is up
    pids = {"driver": os.getpid(), "broker": broker()}
    before = {what: kib(pid) for what, pid in pids.items()}
    start = time.monotonic()
    results = futures.map(inc, range(n))
    total = sum(itertools.islice(results, n // 10))
    at10 = {what: kib(pid) for what, pid in pids.items()}
    total += sum(itertools.islice(results, n * 8 // 10))
    at90 = {what: kib(pid) for what, pid in pids.items()}
    peak = {what: kib(pid, "VmHWM") for what, pid in pids.items()}
    total += sum(results)
    print("correct", total == n * (n + 1) // 2)
    print("seconds %.1f" % (time.monotonic() - start))
    for what in pids:
        print(what, before[what], at10[what], at90[what], peak[what])
'''


def test_ten_million_calls_in_flat_memory(tmp_path):
    p = run_script(tmp_path, MILLIONS, EVO_FARM_WORKERS="2", timeout=600)
    lines = p.stdout.splitlines()
    assert lines[0] == "correct True", p.stdout + p.stderr[-1500:]
    print(lines[1], "for 10**7 calls of x + 1 through futures.map on 2 workers")
    for line in lines[2:4]:
        what, before, at10, at90, peak = line.split()
        before, at10, at90, peak = (int(v) / 1024 for v in (before, at10, at90, peak))
        print("%s VmRSS before the map %.1f MiB, at 10 %% %.1f, at 90 %% %.1f (%+.1f MiB); peak (VmHWM) %.1f MiB"
              % (what, before, at10, at90, at90 - at10, peak))
        assert at90 - at10 < GROWTH_MIB and at10 - before < GROWTH_MIB, line
        if what == "driver":  # nothing materialised up front either (was 545 MiB for 10**7 items)
            assert peak - before < GROWTH_MIB, line


LAZY = '''
import concurrent.futures, itertools, time
import evofarm
from evofarm import _window, futures

drawn = 0

def counted(limit=None):
    """0, 1, 2, ... (endless with no limit), counting what was taken."""
    global drawn
    for i in itertools.count() if limit is None else range(limit):
        drawn += 1
        yield i

def inc(x):
    return x + 1

def ahead(make, count):
    """The most items drawn from counted() beyond those consumed, over the
    first `count` results of the map make() returns (at most its window of
    tasks: here 64 chunks of 1000 calls, 64 of 10, 64 single calls)."""
    global drawn
    drawn, most = 0, 0
    results = make()
    for consumed, _ in enumerate(itertools.islice(results, count), 1):
        most = max(most, drawn - consumed)
    return most

if __name__ == "__main__":
    ex = evofarm.Executor(max_workers=2)
    window = ex._map_window()
    print("window", window)
    # no len(): read ahead 4 x 1000 items per worker to size chunks, then 1000-call chunks
    print("futures.map", ahead(lambda: futures.map(inc, counted()), 200000), 64 * 1000)
    print("chunked", ahead(lambda: ex.map(inc, counted(), chunksize=10), 20000), window * 10)
    print("Executor.map", ahead(lambda: ex.map(inc, counted()), 2000), window)
    print("map_as_completed", ahead(lambda: futures.map_as_completed(inc, counted()), 2000), 64)
    # a shorter input without len() is chunked as a list of its length would be
    sizes = [[len(c) for c in _window.chunks((it,), None, 2)[2]] for it in (counted(200), list(range(200)))]
    print("chunks", sizes[0] == sizes[1] == [25] * 8)
    print("order", list(futures.map(inc, counted(200))) == list(range(1, 201)))
    # a whole first window done before the first wait: the rest still comes
    it = futures.map_as_completed(inc, range(1000))
    time.sleep(0.5)
    print("completed", sorted(it) == list(range(1, 1001)))
    ex.shutdown()
    # maps read after their executor's shutdown, as concurrent.futures allows
    with evofarm.Executor(max_workers=2) as ex:
        one, chunked = ex.map(inc, range(1000)), ex.map(inc, counted(5000), chunksize=7)
    print("after with", list(one) == list(range(1, 1001)), list(chunked) == list(range(1, 5001)))
    ex = evofarm.Executor(max_workers=2, window=4)
    it = ex.map(inc, range(100))
    next(it)
    ex.shutdown(cancel_futures=True)  # the 3 sent still come, then CancelledError
    got = []
    try:
        got.extend(it)
    except concurrent.futures.CancelledError:
        print("cut", got)
'''


def test_every_map_reads_its_input_lazily(tmp_path):
    p = run_script(tmp_path, LAZY, EVO_FARM_WORKERS="2")
    lines = p.stdout.splitlines()
    assert lines[0] == "window 64", p.stdout + p.stderr[-1500:]
    for line in lines[1:5]:
        name, most, bound = line.split()
        assert 0 < int(most) <= int(bound), line
    assert lines[5:] == ["chunks True", "order True", "completed True", "after with True True", "cut [2, 3, 4]"], \
        p.stdout


BIG_ANSWERS = '''
from evofarm import futures

def blob(i):
    return bytes([i]) * (5 << 20)

if __name__ == "__main__":
    total = 0
    for i, b in enumerate(futures.map(blob, range(12), chunksize=1)):
        assert len(b) == 5 << 20 and b[0] == i and b[-1] == i, i
        total += len(b)
    print("bytes", total)
'''


def test_answers_bigger_than_a_message_arrive_whole(farm, tmp_path):
    """12 answers of 5 MiB: a worker's batch of them, and the DONE that
    carries them to the driver, pass the largest message every socket
    takes (16 MiB + 64 KiB): they travel in pieces, none lost."""
    (tmp_path / "big.py").write_text(BIG_ANSWERS)
    cfg = tmp_path / "big.yaml"
    cfg.write_text("farm: {heartbeat: 200ms, batch: 6}\nevaluate: {python: %s}\n" % PY)
    p = farm.run("big.py", workers=1, config=cfg)
    assert "bytes %d" % (12 * 5 << 20) in p.stdout, p.stdout + p.stderr[-2000:]
