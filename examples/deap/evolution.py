"""The ULHPC SCOOP/DEAP tutorial's script (CMA-ES on Rastrigin) with one
changed import: evofarm.futures in place of scoop.futures.

    evo-farm run evolution.yaml -- python3 evolution.py 10
    srun --evo-farm=evolution.yaml -N2 -n6 python3 evolution.py 10

Writes solutions_c{N}_n{cores}.json (solution, fit, time, cores,
dimensions), conv.pdf, and (for comparisons) logbook_c{N}.txt. Options
after N: --seed S (default 0: unseeded, as the tutorial), --ngen G
(default 250), --builtin-map (the plain map, for reference runs).
"""
import argparse
import collections
import json
import os
import random
import timeit

import matplotlib as mpl

mpl.use("Agg")  # no X server on compute nodes
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
from deap import algorithms, base, benchmarks, cma, creator, tools  # noqa: E402

from evofarm import futures  # was: from scoop import futures  # noqa: E402

creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
creator.create("Individual", list, fitness=creator.FitnessMin)

toolbox = base.Toolbox()
toolbox.register("evaluate", benchmarks.rastrigin)


def tree():
    """Recursive dictionary with defaultdict."""
    return collections.defaultdict(tree)


def main(n, out_sol_dict, ngen=250, builtin_map=False):
    """CMA-ES on Rastrigin in n dimensions (the tutorial's settings)."""
    toolbox.register("map", map if builtin_map else futures.map)
    strategy = cma.Strategy(centroid=[5.0] * n, sigma=5.0, lambda_=20 * n)
    toolbox.register("generate", strategy.generate, creator.Individual)
    toolbox.register("update", strategy.update)
    hof = tools.HallOfFame(1)
    stats = tools.Statistics(lambda ind: ind.fitness.values)
    stats.register("avg", numpy.mean)
    stats.register("std", numpy.std)
    stats.register("min", numpy.min)
    stats.register("max", numpy.max)
    _, logbook = algorithms.eaGenerateUpdate(toolbox, ngen=ngen, stats=stats, halloffame=hof, verbose=False)
    best_sol = tools.selBest(hof, 1)[0]
    out_sol_dict["solution"] = list(best_sol)
    out_sol_dict["fit"] = float(best_sol.fitness.values[0])
    gen, avg = logbook.select("gen", "avg")
    plt.figure()
    plt.title("Convergence curve")
    plt.xlabel("Generations")
    plt.ylabel("Best obtained Fitness value at gen N")
    plt.grid(True)
    plt.plot(gen, avg, "r--")
    plt.savefig("conv.pdf", dpi=600)
    return logbook


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="dimension of the problem (number of variables)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ngen", type=int, default=250)
    parser.add_argument("--builtin-map", action="store_true")
    args = parser.parse_args()
    if args.seed:
        random.seed(args.seed)
        numpy.random.seed(args.seed)
    solutions = tree()
    logbook = []
    t = timeit.timeit(lambda: logbook.append(main(args.n, solutions, args.ngen, args.builtin_map)), number=1)
    solutions["time"] = t
    cores = int(os.environ.get("EVO_FARM_WORKERS") or os.environ.get("SLURM_NTASKS") or 1)
    solutions["cores"] = cores
    solutions["dimensions"] = args.n
    with open("solutions_c{0}_n{1}.json".format(args.n, cores), "w") as json_file:
        json.dump(solutions, json_file, indent=True)
    with open("logbook_c{0}.txt".format(args.n), "w") as f:
        f.write(str(logbook[0]) + "\n")
    print("best fitness %.6g after %d generations in %.2f s" % (solutions["fit"], args.ngen, t))
