"""Maps inside tasks (docs/performance.md, "Nested maps"), on a local farm
of EVO_FARM_WORKERS workers (default 2), in one run:

    python3 bench/nested.py [REPEAT]      (ISLAND_WORK_US=N: each OneMax
                                          evaluation spins N us more)

- latency: a map of 10 trivial calls from the driver, and the same map
  inside a task (one task, and two at once: both workers wait on their
  children), each the median of 8 maps, medians over REPEAT runs;
- islands: an island model in the style of DEAP's onemax_island_scoop
  (5 islands of 300 OneMax individuals, 40 generations, a ring migration
  every 5), each island's generations a task whose evaluations are a
  nested futures.map; beside the same model with the builtin map, serially.
"""
import array
import random
import statistics
import sys
import time

from deap import algorithms, base, creator, tools

from evofarm import futures

creator.create("FitnessMax", base.Fitness, weights=(1.0,))
creator.create("Individual", array.array, typecode="b", fitness=creator.FitnessMax)


def one(x):
    return x + 1


def ten_calls():
    """Median seconds of 8 maps of 10 trivial calls, from wherever this runs."""
    times = []
    for _ in range(8):
        start = time.perf_counter()
        assert list(futures.map(one, range(10))) == list(range(1, 11))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def inside(_):
    return ten_calls()


WORK = float(__import__("os").environ.get("ISLAND_WORK_US", "0")) / 1e6  # a fitness that costs this much more


def onemax(individual):
    if WORK:
        until = time.perf_counter() + WORK
        while time.perf_counter() < until:
            pass
    return sum(individual),


def toolbox_with(map_fn):
    toolbox = base.Toolbox()
    toolbox.register("evaluate", onemax)
    toolbox.register("mate", tools.cxTwoPoint)
    toolbox.register("mutate", tools.mutFlipBit, indpb=0.05)
    toolbox.register("select", tools.selTournament, tournsize=3)
    toolbox.register("map", map_fn)
    return toolbox


def evolve(island, generations, nested):
    """One island's generations: its evaluations a nested map, or serial."""
    toolbox = toolbox_with(futures.map if nested else map)
    population, _ = algorithms.eaSimple(island, toolbox, cxpb=0.5, mutpb=0.2, ngen=generations, verbose=False)
    return population


def islands(nested):
    random.seed(64)
    pops = [[creator.Individual(random.randint(0, 1) for _ in range(100)) for _ in range(300)] for _ in range(5)]
    start = time.perf_counter()
    for _ in range(0, 40, 5):
        if nested:
            pops = list(futures.map(evolve, pops, [5] * 5, [True] * 5, chunksize=1))
        else:
            pops = [evolve(pop, 5, False) for pop in pops]
        tools.migRing(pops, 15, tools.selBest)
    best = max(ind.fitness.values[0] for pop in pops for ind in pop)
    return time.perf_counter() - start, best


if __name__ == "__main__":
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    runs = {"driver": [], "one task": [], "two tasks": [], "islands serial": [], "islands farm": []}
    for _ in range(repeat):
        runs["driver"].append(ten_calls() * 1e3)
        runs["one task"].append(futures.submit(inside, 0).result() * 1e3)
        runs["two tasks"].append(max(futures.map(inside, range(2), chunksize=1)) * 1e3)
        runs["islands serial"].append(islands(False)[0])
        runs["islands farm"].append(islands(True)[0])
    for name, unit in (("driver", "ms"), ("one task", "ms"), ("two tasks", "ms"), ("islands serial", "s"),
                       ("islands farm", "s")):
        values = runs[name]
        print("nested %-15s median %8.3f %-2s  [%s]" % (name, statistics.median(values), unit,
                                                       " ".join("%.3f" % v for v in values)))
    print("nested inside a task / from the driver = %.2f (one task), %.2f (two at once); islands farm / serial = %.2f"
          % (statistics.median(runs["one task"]) / statistics.median(runs["driver"]),
             statistics.median(runs["two tasks"]) / statistics.median(runs["driver"]),
             statistics.median(runs["islands farm"]) / statistics.median(runs["islands serial"])))
