"""A map's chunks sized from what its calls cost on the workers
(evofarm._window.chunksize and Costs): before the first map of a function
as Pool.map sizes them, after it one chunk per worker for trivial calls and
one call per task for costly ones; counted by the farm's own summary (a
chunk is one evaluation there). Every result still comes, in order."""
import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "python"))
from evofarm import _window  # noqa: E402 (the tree's package, as the drivers get it)

SCRIPT = '''
import time
from evofarm import futures

def inc(x):
    return x + 1

def nap(x):
    time.sleep(0.05)
    return -x

if __name__ == "__main__":
    for _ in range(2):
        assert list(futures.map(inc, range(200))) == list(range(1, 201))
    costs = futures._farm()._costs  # None with a journal
    print("inc", costs is not None and costs.get(inc) is not None)
    for _ in range(2):
        assert list(futures.map(nap, range(16))) == [-x for x in range(16)]
    print("nap", costs is not None and costs.get(nap) >= 0.05)
'''


@pytest.mark.parametrize("n, workers, cost, size", [
    (200, 2, None, 25),         # not measured yet: four chunks per worker, as Pool.map
    (200, 2, 5e-6, 100),        # trivial: one chunk per worker
    (200, 56, 5e-6, 4),         # ... on 56 workers: every worker busy
    (100000, 2, None, 1000),    # never above CHUNK_MAX before the cost is known
    (100000, 2, 1e-7, 5000),    # nor above CHUNK_MAX_MEASURED: the driver's pickling overlaps the workers
    (200, 2, 0.001, 50),        # 1 ms calls: chunks of TASK_SECONDS of work
    (200, 2, 0.0011, 34),       # ... 5 such chunks: 6, as many for each worker
    (16, 2, 0.05, 1),           # costly: one call per task, for balance
    (3, 8, 5e-6, 1),            # fewer calls than workers
    (0, 2, 5e-6, 1),
])
def test_chunk_size_from_the_cost(n, workers, cost, size):
    assert _window.chunksize(n, workers, cost) == size


def test_costs_are_learnt_per_function():
    costs = _window.Costs()

    def f(x):
        return x
    assert costs.get(f) is None
    costs.add(f, 0.02, 10)
    costs.add(f, 0.04, 10)
    assert costs.get(f) == pytest.approx(0.003)  # each chunk weighs half against what was known
    costs.add(abs, 0.001, 1000)                  # a builtin takes no weak reference
    assert costs.get(abs) == pytest.approx(1e-6)
    costs.add([].append, 1.0, 1)                 # a bound method: its function (none here: the method itself)
    assert costs.get({}) is None                 # unhashable: unknown, never an error


def test_second_map_goes_in_as_few_tasks_as_its_cost_allows(farm):
    (farm.tmp / "chunks.py").write_text(SCRIPT)
    p = farm.run("chunks.py", workers=2)
    assert p.stdout.split() == ["inc", "True", "nap", "True"], p.stdout + p.stderr[-2000:]
    done = int(re.search(r"evo-farm: (\d+) evaluations done", p.stderr).group(1))
    # inc: 8 chunks of 25, then 2 of 100; nap: 8 chunks of 2, then 16 single calls
    assert done == 8 + 2 + 8 + 16, p.stderr[-2000:]


def test_a_journaled_farm_cuts_every_map_as_pool_does(farm):
    """With a journal, a rerun must send the tasks the journal answers:
    chunks never depend on measured times (EVO_FARM_JOURNALED)."""
    (farm.tmp / "chunks.py").write_text(SCRIPT)
    cfg = farm.config("output: {journal: %s}\n" % (farm.tmp / "journal"))
    p = farm.run("chunks.py", workers=2, config=cfg)
    assert p.stdout.split() == ["inc", "False", "nap", "False"], p.stdout + p.stderr[-2000:]
    done = int(re.search(r"evo-farm: (\d+) evaluations done", p.stderr).group(1))
    hits = int(re.search(r"evo-farm: (\d+) evaluations answered from the journal", p.stderr).group(1))
    # every map in 8 chunks; each function's second map, the same 8 tasks, answered by the journal
    assert (done, hits) == (16, 16), p.stderr[-2000:]
