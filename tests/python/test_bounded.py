"""Bounded memory whatever the size of a map (issue 15, point 2): 10**7
calls through futures.map on 2 workers, every result checked (their sum
against the closed form), with the driver's and the broker's resident
memory (VmRSS) flat between 10 % and 90 % of the run and nothing
materialised up front (the driver's peak, VmHWM); and the input of
every map form read lazily, at most a window of tasks ahead of its
reader, an endless one included."""
from conftest import run_script

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
