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
