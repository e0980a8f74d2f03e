#!/usr/bin/env python3
"""The same measurements with Python's multiprocessing.Pool, the peer a
researcher would otherwise reach for on one machine (from Debian's python3).

  peer_multiprocessing.py efficiency N WORKERS MODE   MODE: sleep | busy
  peer_multiprocessing.py latency COUNT
"""
import multiprocessing
import statistics
import sys
import time


def sleep_1ms(x):
    time.sleep(0.001)
    return sum(v * v for v in x)


def busy_1ms(x):
    end = time.perf_counter() + 0.001
    while time.perf_counter() < end:
        pass
    return sum(v * v for v in x)


def identity(x):
    return x


def main():
    mode = sys.argv[1]
    if mode == "efficiency":
        n, workers, kind = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        fn = sleep_1ms if kind == "sleep" else busy_1ms
        xs = [[0.5] * 10 for _ in range(n)]
        with multiprocessing.Pool(workers) as pool:
            pool.map(identity, range(workers * 4))  # start-up out of the timing
            start = time.perf_counter()
            pool.map(fn, xs)
            seconds = time.perf_counter() - start
        ideal = n * 1e-3 / workers
        print("multiprocessing.Pool efficiency: %d x 1 ms %s on %d workers in %.3f s = %.1f%% of ideal"
              % (n, kind, workers, seconds, 100 * ideal / seconds))
    else:
        count = int(sys.argv[2])
        with multiprocessing.Pool(1) as pool:
            samples = []
            for i in range(100 + count):
                start = time.perf_counter()
                pool.map(identity, [[0.5] * 10])
                if i >= 100:
                    samples.append(time.perf_counter() - start)
        samples.sort()
        print("multiprocessing.Pool latency: one-item map round trip median %.1f us, p99 %.1f us"
              % (statistics.median(samples) * 1e6, samples[len(samples) * 99 // 100] * 1e6))


if __name__ == "__main__":
    main()
