"""SCOOP's futures.mapReduce and futures.mapScan against the builtin
equivalents on the same inputs (functools.reduce, itertools.accumulate),
with an operation that is not commutative so the order shows."""
from conftest import run_script

SCRIPT = '''
import functools, itertools, operator
from evofarm import futures

def word(i):
    return "w%d " % i

def square(x, y):
    return x * x + y

if __name__ == "__main__":
    xs, ys = list(range(200)), list(range(200, 400))
    print(futures.mapReduce(word, operator.add, range(50)) == functools.reduce(operator.add, map(word, range(50))))
    print(futures.mapReduce(square, operator.add, xs, ys) == functools.reduce(operator.add, map(square, xs, ys)))
    print(futures.mapScan(word, operator.add, range(30)) == list(itertools.accumulate(map(word, range(30)), operator.add)))
    print(futures.mapScan(square, max, xs, ys, chunksize=7) == list(itertools.accumulate(map(square, xs, ys), max)))
    try:
        futures.mapReduce(word, operator.add, [])
    except TypeError as exc:  # as functools.reduce of nothing
        print("empty:", "empty" in str(exc))
'''


def test_map_reduce_and_scan(tmp_path):
    p = run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="2")
    assert p.stdout.split("\n")[:5] == ["True", "True", "True", "True", "empty: True"], p.stdout
