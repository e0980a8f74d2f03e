"""signals.py — run as a farm's Python driver by test_signals.sh and the
Slurm suite: traps SIGUSR1, SIGUSR2, SIGHUP and SIGALRM (what scancel -s
and --signal=SIG@T send to every process of a step) and maps slow calls
until it has had each one, checking every result. Writes "mapping" to
the file named by argv[1] once the farm answers; prints "signals ok: "
and the signals it got."""
import signal
import sys
import time
from evofarm import futures

WANTED = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGALRM)

def slow_square(x):
    time.sleep(0.01)
    return x * x

if __name__ == "__main__":
    got = set()
    for sig in WANTED:
        signal.signal(sig, lambda s, frame: got.add(s))
    assert list(futures.map(slow_square, range(4))) == [0, 1, 4, 9]
    with open(sys.argv[1], "w") as f:
        f.write("mapping\n")
    deadline = time.monotonic() + 60
    while len(got) < len(WANTED) and time.monotonic() < deadline:
        assert list(futures.map(slow_square, range(40))) == [x * x for x in range(40)]
    assert len(got) == len(WANTED), "only got %s" % sorted(got)
    print("signals ok: " + " ".join(signal.Signals(s).name for s in sorted(got)))
