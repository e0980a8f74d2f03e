"""Driver for test_executor: evofarm.Executor as a concurrent.futures.Executor."""
import concurrent.futures as cf
import time

import evofarm


def slow(x):
    time.sleep(0.05)
    return x


def twice(x):
    return 2 * x


def check(name, ok):
    print("%s %s" % ("PASS" if ok else "FAIL", name))


if __name__ == "__main__":
    with evofarm.Executor() as ex:
        check("is a concurrent.futures.Executor", isinstance(ex, cf.Executor))
        check("map", list(ex.map(twice, range(100))) == [2 * i for i in range(100)])
        check("map with chunks", list(ex.map(twice, range(1000), chunksize=64)) == [2 * i for i in range(1000)])
        check("submit", ex.submit(twice, 21).result() == 42)
    check("shutdown by the with block", ex._thread.is_alive() is False)
    try:
        ex.submit(twice, 1)
        check("no submit after shutdown", False)
    except RuntimeError:
        check("no submit after shutdown", True)
    # a window of 2: 40 slow calls, 2 in the farm at a time; cancel the rest
    ex = evofarm.Executor(window=2)
    fs = [ex.submit(slow, i) for i in range(40)]
    time.sleep(0.2)
    cancelled = [f for f in fs if f.cancel()]
    rest = [f for f in fs if not f.cancelled()]
    check("queued calls cancel", len(cancelled) >= 30)
    check("the others complete", [f.result() for f in rest] == [fs.index(f) for f in rest])
    ex.shutdown()
    print("cancelled %d of 40; %d ran" % (len(cancelled), len(rest)))
