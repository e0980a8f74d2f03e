#!/usr/bin/env python3
"""A `command` evaluator for the integration tests (docs/evaluators.md).

Reads one candidate per line (whitespace-separated numbers) and answers one
line per candidate. argv[1] picks the behaviour:
  sphere, rastrigin       the function, exactly as the C reference computes it
  fail_if_negative        "error: ..." when x[0] < 0
  crash_if_negative       exits with status 3 when x[0] < 0
  hang_if_negative        sleeps forever when x[0] < 0
  garbage_if_negative     answers a line that is not a result when x[0] < 0
  prefix                  answers sys.prefix's length, and writes sys.prefix to
                          stderr once (so tests can see which interpreter ran)
  slow_prefix             the same, 10 ms per candidate (so every worker task
                          of a step has joined before the work is done)
"""
import math
import sys
import time


def sphere(x):
    s = 0.0
    for v in x:
        s += v * v
    return s


def rastrigin(x):
    s = 10.0 * len(x)
    for v in x:
        s += v * v - 10.0 * math.cos(2.0 * math.pi * v)
    return s


def main():
    mode = sys.argv[1]
    out = sys.stdout
    if mode.endswith("prefix"):
        sys.stderr.write("fitness.py: sys.prefix=%s\n" % sys.prefix)
    for line in sys.stdin:
        x = [float(t) for t in line.split()]
        if x[0] < 0 and mode.endswith("_if_negative"):
            if mode == "fail_if_negative":
                out.write("error: x[0] is negative\n")
                out.flush()
                continue
            if mode == "crash_if_negative":
                sys.exit(3)
            if mode == "hang_if_negative":
                time.sleep(3600)
            if mode == "garbage_if_negative":
                out.write("Traceback (most recent call last): oops\n")
                out.flush()
                continue
        if mode.endswith("prefix"):
            if mode == "slow_prefix":
                time.sleep(0.01)
            value = float(len(sys.prefix))
        else:
            value = rastrigin(x) if mode == "rastrigin" else sphere(x)
        out.write(repr(value) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
