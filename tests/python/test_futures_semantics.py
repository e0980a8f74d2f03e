"""concurrent.futures behaviours to the letter, and objects of the main
script's classes both ways: shutdown(cancel_futures=True) cancels only
calls not yet running and lets running ones finish; map's iterator keeps no
result once it has been yielded; an instance of a class defined in the
main script goes to the workers and comes back as that class."""
from conftest import run_script

SCRIPT = '''
import gc, time, weakref
import evofarm
from evofarm import futures

class Point:
    def __init__(self, x):
        self.x = x

def moved(p):
    return Point(p.x + 1)

def slow(x):
    time.sleep(0.5)
    return x

if __name__ == "__main__":
    back = futures.submit(moved, Point(1)).result()
    print("class", type(back) is Point, back.x)
    seen = []
    for p in futures.map(moved, [Point(i) for i in range(300)]):
        seen.append(weakref.ref(p))
        del p
    gc.collect()
    print("dropped", sum(r() is not None for r in seen))
    ex = evofarm.Executor(max_workers=2, window=2)
    fs = [ex.submit(slow, i) for i in range(10)]
    time.sleep(0.2)  # the first two are running on the workers
    ex.shutdown(wait=True, cancel_futures=True)
    print("running finished", [f.result() for f in fs[:2]])
    print("queued cancelled", all(f.cancelled() for f in fs[2:]))
'''


def test_cancel_futures_gc_and_main_classes(tmp_path):
    p = run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="2")
    assert p.stdout.splitlines() == ["class True 2", "dropped 0", "running finished [0, 1]",
                                     "queued cancelled True"], p.stdout + p.stderr[-1500:]


TIMING = '''
import concurrent.futures as cf, threading, time
import evofarm
from evofarm import futures

def nap(x):
    time.sleep(x)
    return x

def late(make, *args, **kw):
    """(seconds from the map call to its TimeoutError, values before it)."""
    start = time.monotonic()
    it = make(*args, **kw)
    time.sleep(0.4)  # the clock runs from the call, not from the first next()
    got = []
    try:
        for v in it:
            got.append(v)
    except cf.TimeoutError:
        return round(time.monotonic() - start, 1), got
    return None, got

if __name__ == "__main__":
    calls = []
    f = futures.submit(nap, 0.2)
    f.add_done_callback(lambda g: calls.append((g is f, g.result(), threading.current_thread() is not threading.main_thread())))
    f.result()
    time.sleep(0.1)
    f.add_done_callback(lambda g: calls.append(("after", g.result())))
    print("callbacks", calls)
    ex = evofarm.Executor(max_workers=2)
    print("futures.map", late(futures.map, nap, [0.01, 3], timeout=0.6))
    print("Executor.map", late(ex.map, nap, [0.01, 3], timeout=0.6))
    print("chunked", late(ex.map, nap, [0.01, 0.01, 3, 3], timeout=0.6, chunksize=2))
    start = time.monotonic()
    try:
        list(futures.map_as_completed(nap, [3], timeout=0.5))
    except cf.TimeoutError:
        print("as_completed", round(time.monotonic() - start, 1))
    ex.shutdown(cancel_futures=True)
'''


def test_callbacks_and_exact_map_timeouts(tmp_path):
    p = run_script(tmp_path, TIMING, EVO_FARM_WORKERS="2")
    lines = p.stdout.splitlines()
    assert lines[0] == "callbacks [(True, 0.2, True), ('after', 0.2)]", p.stdout + p.stderr[-1500:]
    for line, got in zip(lines[1:4], ["[0.01]", "[0.01]", "[0.01, 0.01]"]):
        name, rest = line.split(" ", 1)
        elapsed, values = eval(rest)  # (seconds, values): the timeout fired 0.6 s after the call
        assert 0.5 <= elapsed <= 1.2 and str(values) == got, line
    assert lines[4].startswith("as_completed 0.") or lines[4] == "as_completed 1.0", lines[4]
