"""Rejection ABC the way pyABC's ConcurrentFutureSampler drives an executor:
keep proposals in flight, count acceptances as they complete, and once N
are accepted cancel the rest.

    evo-farm run evolution.yaml -- python3 abc_rejection.py 200

Model: 20 draws from Normal(theta, 1); prior theta ~ Uniform(-10, 10);
observed mean 2.0; a proposal is accepted when the simulated mean is
within EPS of it. Prints the posterior mean and the bookkeeping.
"""
import argparse
import concurrent.futures as cf
import random
import statistics
import time

import evofarm

OBSERVED = 2.0
EPS = 0.1


def simulate(theta, seed, delay):
    """One proposal: (theta, distance). `delay` stands for a costly model."""
    rng = random.Random(seed)
    if delay:
        time.sleep(delay)
    sim = statistics.fmean(rng.gauss(theta, 1.0) for _ in range(20))
    return theta, abs(sim - OBSERVED)


def sample(executor, n, delay, in_flight):
    rng = random.Random(1)
    futures, accepted, evaluated, seed = set(), [], 0, 0

    def propose():
        nonlocal seed
        seed += 1
        futures.add(executor.submit(simulate, rng.uniform(-10, 10), seed, delay))

    for _ in range(in_flight):
        propose()
    while len(accepted) < n:
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        for f in done:
            futures.discard(f)
            evaluated += 1
            theta, distance = f.result()
            if distance < EPS and len(accepted) < n:
                accepted.append(theta)
            if len(accepted) < n:
                propose()
    cancelled = sum(f.cancel() for f in futures)
    # Not cancelled: running, or finished since the last wait and never
    # looked at (both were evaluated by the farm).
    running = sum(not f.done() for f in futures)
    return accepted, evaluated, cancelled, running, len(futures) - cancelled - running


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="rejection ABC on an evo-farm")
    parser.add_argument("n", type=int, help="accepted samples wanted")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each simulation sleeps")
    parser.add_argument("--in-flight", type=int, default=200, help="proposals submitted ahead")
    args = parser.parse_args()
    with evofarm.Executor() as executor:
        accepted, evaluated, cancelled, running, unseen = sample(executor, args.n, args.delay, args.in_flight)
    print("accepted %d, evaluated %d, cancelled %d before they ran, %d still running when cancelled, "
          "%d finished unseen" % (len(accepted), evaluated, cancelled, running, unseen))
    print("posterior mean %.3f (observed %.1f)" % (statistics.fmean(accepted), OBSERVED))
