"""Python peers of evofarm, one measurement per run (bench/python_peers.sh
runs them all, several times, and takes medians):

    python_peers.py trivial PEER W   100,000 calls of a trivial function
                                     (evofarm and pool: the median of 5
                                     maps after a first)
                                     (10,000 for the peers that send
                                     each call alone: ppe, mpi4py, dask;
                                     PEERS_CHUNKSIZE=N: evofarm and pool
                                     with chunksize=N)
    python_peers.py job PEER W       the tutorial's CMA-ES job (N = 10,
                                     lambda = 200) for 20 generations with a
                                     1 ms sleep in the fitness
    python_peers.py roundtrip PEER W one call at a time: submit(f, x).result()
                                     (Pool: apply_async().get()), median of 2,000
    python_peers.py launch PEER W T0 how long from T0 (time.time() when the
                                     command was started, given by the
                                     caller) to the first result of a
                                     one-item map, the peer's start-up included
                                     (with PEERS_IMPORTS=a,b,c: those
                                     modules imported at the script's top)
    python_peers.py tutorial PEER W  the tutorial's job for 250 generations
                                     (PEERS_GENERATIONS=G: G) with its
                                     trivial Rastrigin fitness:
                                     seconds, the farm's overhead on top of
                                     DEAP's own serial work

PEER: evofarm (run as the driver of `evo-farm run ... -n W`), pool
(multiprocessing.Pool.map), ppe (concurrent.futures.ProcessPoolExecutor
.map, its default chunksize 1), mpi4py (mpi4py.futures.MPIPoolExecutor
.map under `mpiexec -n W+1 python3 -m mpi4py.futures`), dask (dask.distributed LocalCluster, Client.map + gather). Each peer
gets W worker processes. Prints one line: "MODE PEER: ... = FIGURE".
"""
import importlib
import os
import sys
import time

from deap import base, creator

# PEERS_IMPORTS=numpy,scipy.stats,pandas (python_peers.sh's heavy mode):
# imported at the script's top, as a pyABC script imports its stack, so
# that a peer's start-up includes what its workers must import (or fork)
for _name in filter(None, os.environ.get("PEERS_IMPORTS", "").split(",")):
    importlib.import_module(_name)

# at module level, as in the tutorial: workers that unpickle individuals
# (forked, spawned or importing this script) must know the classes
creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
creator.create("Individual", list, fitness=creator.FitnessMin)

N_TRIVIAL = 100_000
DIM, GENERATIONS = 10, 20
# the tutorial's 250 generations; PEERS_GENERATIONS=G another number (the
# instruction counts of python_peers.sh take two lengths' difference)
TUTORIAL_GENERATIONS = int(os.environ.get("PEERS_GENERATIONS") or 250)


def inc(x):
    return x + 1


def sleepy_rastrigin(individual):
    time.sleep(0.001)
    from deap import benchmarks
    return benchmarks.rastrigin(individual)


def make_submit(peer, workers):
    """(submit(fn, x) -> object with result(), closer) for a peer."""
    if peer == "evofarm":
        from evofarm import futures
        return futures.submit, futures.shutdown
    if peer == "pool":
        import multiprocessing
        pool = multiprocessing.Pool(workers)

        class Result:
            def __init__(self, r):
                self.result = r.get
        return (lambda f, x: Result(pool.apply_async(f, (x,)))), pool.close
    if peer == "ppe":
        import concurrent.futures
        ex = concurrent.futures.ProcessPoolExecutor(workers)
        return ex.submit, ex.shutdown
    if peer == "mpi4py":
        from mpi4py.futures import MPIPoolExecutor
        ex = MPIPoolExecutor(max_workers=workers)
        return ex.submit, ex.shutdown
    if peer == "dask":
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def close():
            client.close()
            cluster.close()
        return (lambda f, x: client.submit(f, x, pure=False)), close
    raise SystemExit("unknown peer %s" % peer)


def roundtrip(peer, submit):
    import statistics
    for i in range(200):
        submit(inc, i).result()
    times = []
    for i in range(2000):
        start = time.perf_counter()
        submit(inc, i).result()
        times.append(time.perf_counter() - start)
    print("roundtrip %s: median of 2000 = %.1f us" % (peer, statistics.median(times) * 1e6))


def make_map(peer, workers):
    """(map function, closer) for a peer."""
    if peer == "evofarm":
        from evofarm import futures
        return futures.map, futures.shutdown
    if peer == "pool":
        import multiprocessing
        pool = multiprocessing.Pool(workers)
        return pool.map, pool.close
    if peer == "ppe":
        import concurrent.futures
        ex = concurrent.futures.ProcessPoolExecutor(workers)
        return (lambda f, it: list(ex.map(f, it))), ex.shutdown
    if peer == "mpi4py":
        from mpi4py.futures import MPIPoolExecutor
        ex = MPIPoolExecutor(max_workers=workers)
        return (lambda f, it: list(ex.map(f, it))), ex.shutdown
    if peer == "dask":
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def dmap(f, it):
            return client.gather(client.map(f, list(it), pure=False))

        def close():
            client.close()
            cluster.close()
        return dmap, close
    if peer == "serial":  # the builtin map in this process: DEAP's own work, no farm
        return map, (lambda: None)
    raise SystemExit("unknown peer %s" % peer)


def warm(map_fn):
    list(map_fn(inc, range(100)))  # workers started, code imported


def trivial(peer, map_fn):
    n = N_TRIVIAL if peer in ("evofarm", "pool") else N_TRIVIAL // 10
    chunk = int(os.environ.get("PEERS_CHUNKSIZE") or 0)  # pool and evofarm: this chunksize, not their default
    if chunk and peer in ("evofarm", "pool"):
        import functools
        map_fn = functools.partial(map_fn, chunksize=chunk)
    # evofarm and pool: the median of 5 maps after a first (a map of 100,000
    # takes some 20 ms here: one alone is the machine's noise)
    times = []
    for _ in range(6 if peer in ("evofarm", "pool") else 1):
        start = time.perf_counter()
        out = list(map_fn(inc, range(n)))
        times.append(time.perf_counter() - start)
        assert out[-1] == n
    seconds = sorted(times[1:] or times)[len(times[1:] or times) // 2]
    print("trivial %s: %d calls in %.3f s = %.0f calls/s" % (peer, n, seconds, n / seconds))


def job(peer, map_fn, workers):
    import random

    import numpy
    from deap import algorithms, cma
    random.seed(1)
    numpy.random.seed(1)
    toolbox = base.Toolbox()
    toolbox.register("evaluate", sleepy_rastrigin)
    toolbox.register("map", map_fn)
    strategy = cma.Strategy(centroid=[5.0] * DIM, sigma=5.0, lambda_=20 * DIM)
    toolbox.register("generate", strategy.generate, creator.Individual)
    toolbox.register("update", strategy.update)
    start = time.perf_counter()
    algorithms.eaGenerateUpdate(toolbox, ngen=GENERATIONS, verbose=False)
    seconds = time.perf_counter() - start
    ideal = GENERATIONS * 20 * DIM * 0.001 / workers
    print("job %s: %d generations in %.3f s, ideal %.3f s = %.1f%% of ideal"
          % (peer, GENERATIONS, seconds, ideal, 100 * ideal / seconds))


def tutorial(peer, map_fn):
    import random

    import numpy
    from deap import algorithms, benchmarks, cma
    random.seed(1)
    numpy.random.seed(1)
    toolbox = base.Toolbox()
    toolbox.register("evaluate", benchmarks.rastrigin)
    toolbox.register("map", map_fn)
    strategy = cma.Strategy(centroid=[5.0] * DIM, sigma=5.0, lambda_=20 * DIM)
    toolbox.register("generate", strategy.generate, creator.Individual)
    toolbox.register("update", strategy.update)
    start = time.perf_counter()
    algorithms.eaGenerateUpdate(toolbox, ngen=TUTORIAL_GENERATIONS, verbose=False)
    print("tutorial %s: %d generations = %.3f s" % (peer, TUTORIAL_GENERATIONS, time.perf_counter() - start))


if __name__ == "__main__":
    mode, peer, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "roundtrip":
        submit, close = make_submit(peer, workers)
        roundtrip(peer, submit)
        close()
        raise SystemExit(0)
    map_fn, close = make_map(peer, workers)
    if mode == "launch":  # the first map is the measurement: no warm-up
        out = list(map_fn(inc, [1]))
        print("launch %s: first result after = %.1f ms" % (peer, (time.time() - float(sys.argv[4])) * 1000))
        assert out == [2]
        close()
        raise SystemExit(0)
    if mode == "tutorial" and peer == "serial":
        map_fn = map
    warm(map_fn)
    if mode == "trivial":
        trivial(peer, map_fn)
    elif mode == "tutorial":
        tutorial(peer, map_fn)
    else:
        job(peer, map_fn, workers)
    close()
