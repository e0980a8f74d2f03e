"""What only cloudpickle can send (Debian's python3-cloudpickle): lambdas,
closures and a function defined under the main guard run on the workers;
what nothing can send still gets an error naming it. The same script
without cloudpickle gets today's clear errors (test_basics)."""
from conftest import run_script

SCRIPT = '''
import threading
from evofarm import FarmError, futures

def make_adder(k):
    def add(x):
        return x + k
    return add

if __name__ == "__main__":
    def guarded(x):  # only exists when the script runs as __main__
        return 10 * x
    print("lambda", list(futures.map(lambda x: x * x, range(5))))
    print("closure", list(futures.map(make_adder(100), range(3))))
    print("guarded", futures.submit(guarded, 4).result())
    scale = 3
    print("captures", list(futures.map(lambda x: x * scale, [1, 2])))
    try:
        futures.submit(make_adder(1), threading.Lock()).result()
    except FarmError as e:
        print("unsendable:", "cannot send the arguments of a call to make_adder.<locals>.add" in str(e))
'''


def test_lambdas_closures_and_main_guard_with_cloudpickle(tmp_path):
    p = run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="2")
    assert p.stdout.splitlines() == ["lambda [0, 1, 4, 9, 16]", "closure [100, 101, 102]", "guarded 40",
                                     "captures [3, 6]", "unsendable: True"], p.stdout + p.stderr[-1000:]
