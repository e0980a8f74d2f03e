"""The ULHPC SCOOP/DEAP tutorial's optimisation (CMA-ES on Rastrigin,
centroid 5.0, sigma 5.0, lambda 20 N, 250 generations) with the builtin
map and a fixed seed, for comparison with evo-farm's built-in CMA-ES
(bench/cmaes-vs-deap.sh). Usage: deap_tutorial.py N SEED
Prints: "deap N=.. seed=..: fit F after G generations, E evaluations, T s"."""
import random
import sys
import time

import numpy
from deap import algorithms, base, benchmarks, cma, creator, tools


def main(n, seed):
    random.seed(seed)
    numpy.random.seed(seed)
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
    creator.create("Individual", list, fitness=creator.FitnessMin)
    toolbox = base.Toolbox()
    toolbox.register("evaluate", benchmarks.rastrigin)
    strategy = cma.Strategy(centroid=[5.0] * n, sigma=5.0, lambda_=20 * n)
    toolbox.register("generate", strategy.generate, creator.Individual)
    toolbox.register("update", strategy.update)
    hof = tools.HallOfFame(1)
    start = time.time()
    _, logbook = algorithms.eaGenerateUpdate(toolbox, ngen=250, halloffame=hof, verbose=False)
    fit = hof[0].fitness.values[0]
    print("deap N=%d seed=%d: fit %.6g after 250 generations, %d evaluations, %.1f s"
          % (n, seed, fit, 250 * 20 * n, time.time() - start))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
