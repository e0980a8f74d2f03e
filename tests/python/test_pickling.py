"""numpy's scalars travel as their type and Python value (evofarm._calls
.dumps_fast), both ways: what a worker's function gets, and what the
driver gets back, is of the same type and equal bit for bit (NaN, -0.0,
the extremes of the integers); the types it does not cover keep numpy's
own reduction."""
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "python"))
from evofarm import _calls  # noqa: E402 (the tree's package, as the drivers get it)

SCRIPT = '''
import numpy
from evofarm import futures

def kinds():
    return [numpy.float64(1.5), numpy.float64(-0.0), numpy.float64("nan"), numpy.float32(0.1),
            numpy.float16(0.3), numpy.int64(-2**63), numpy.uint64(2**64 - 1), numpy.bool_(True),
            numpy.complex64(1 + 2j), numpy.int8(-5), numpy.datetime64("2020-01-01")]

def same(a, b):
    return type(a) is type(b) and a.tobytes() == b.tobytes()

def echo(values):
    # what came in, as the driver sent it; and new scalars going back
    return all(same(a, b) for a, b in zip(values, kinds())), values, kinds()

if __name__ == "__main__":
    for ok, back, fresh in futures.map(echo, [kinds()] * 4):
        print(ok, all(same(a, b) for a, b in zip(back, kinds())), all(same(a, b) for a, b in zip(fresh, kinds())))
'''


def test_numpy_scalars_cross_the_farm_unchanged(farm):
    (farm.tmp / "scalars.py").write_text(SCRIPT)
    p = farm.run("scalars.py", workers=2)
    assert p.stdout.split("\n")[:4] == ["True True True"] * 4, p.stdout + p.stderr[-2000:]


def test_smaller_than_numpys_own_pickles():
    import pickle

    import numpy
    values = [numpy.float64(i) / 7 for i in range(100)]
    fast = _calls.dumps_fast(values)
    assert pickle.loads(fast) == values and all(type(v) is numpy.float64 for v in pickle.loads(fast))
    assert len(fast) < len(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))
