"""Driver for test_executor: one behaviour of evofarm.Executor as a
concurrent.futures.Executor, named by argv[1]; prints PASS or FAIL."""
import concurrent.futures as cf
import sys
import time

import evofarm


def slow(x):
    time.sleep(0.05)
    return x


def twice(x):
    return 2 * x


def is_a_concurrent_futures_executor():
    with evofarm.Executor() as ex:
        return isinstance(ex, cf.Executor)


def map_in_order():
    with evofarm.Executor() as ex:
        return list(ex.map(twice, range(100))) == [2 * i for i in range(100)]


def map_with_chunks():
    with evofarm.Executor() as ex:
        return list(ex.map(twice, range(1000), chunksize=64)) == [2 * i for i in range(1000)]


def submit_gives_a_future():
    with evofarm.Executor() as ex:
        return ex.submit(twice, 21).result() == 42


def no_submit_after_shutdown():
    with evofarm.Executor() as ex:
        ex.submit(twice, 1).result()
    if ex._thread.is_alive():  # the with block shut it down
        return False
    try:
        ex.submit(twice, 1)
    except RuntimeError:
        return True
    return False


def queued_calls_cancel():
    # a window of 2: 40 slow calls, 2 in the farm at a time; cancel the rest
    ex = evofarm.Executor(window=2)
    fs = [ex.submit(slow, i) for i in range(40)]
    time.sleep(0.2)
    cancelled = [f for f in fs if f.cancel()]
    rest = [f for f in fs if not f.cancelled()]
    ok = len(cancelled) >= 30 and [f.result() for f in rest] == [fs.index(f) for f in rest]
    ex.shutdown()
    print("cancelled %d of 40; %d ran" % (len(cancelled), len(rest)))
    return ok


if __name__ == "__main__":
    name = sys.argv[1]
    print("%s %s" % ("PASS" if globals()[name]() else "FAIL", name))
