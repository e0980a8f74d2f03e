"""Reads the trace files of one traced run (EVO_FARM_TRACE=PREFIX, util/trace.h)
and prints where a round trip's microseconds go: the median of each
segment between consecutive points over the round trips, and of the whole.
Usage: latency_budget.py PREFIX [SKIP]   (SKIP: first round trips left out, default 100)
The hops between the driver, the broker and the worker are the local Unix
socket under evo-farm run, or ZeroMQ with CURVE (EVO_FARM_UNIX_SOCKET= , or
members on other machines)."""
import glob
import statistics
import sys

C_PATH = ["client.submit", "broker.submit", "broker.tasks", "worker.tasks", "worker.write", "child.read",
        "child.answer", "worker.answer", "worker.results", "broker.results", "broker.done", "client.done"]
PY_PATH = ["py.submit", "py.send", "client.submit", "broker.submit", "broker.tasks", "worker.tasks", "worker.write",
           "evaluator.read", "evaluator.answer", "worker.answer", "worker.results", "broker.results", "broker.done",
           "client.done", "py.got", "py.result"]
WHAT = {
    ("client.submit", "broker.submit"): "driver -> broker",
    ("broker.submit", "broker.tasks"): "broker: SUBMIT to TASKS",
    ("broker.tasks", "worker.tasks"): "broker -> worker",
    ("worker.tasks", "worker.write"): "worker: TASKS to the child's pipe",
    ("worker.write", "child.read"): "worker -> evaluator child (pipe)",
    ("child.read", "child.answer"): "child: the evaluation, encoded",
    ("child.answer", "worker.answer"): "evaluator child -> worker (pipe)",
    ("worker.answer", "worker.results"): "worker: answer to RESULTS",
    ("worker.results", "broker.results"): "worker -> broker",
    ("broker.results", "broker.done"): "broker: RESULTS to DONE",
    ("broker.done", "client.done"): "broker -> driver",
    ("py.submit", "py.send"): "caller: pickle the call, to the connection (no hand-off when idle)",
    ("py.send", "client.submit"): "dispatch thread: ctypes into libevofarm",
    ("worker.write", "evaluator.read"): "worker -> Python evaluator (pipe)",
    ("evaluator.read", "evaluator.answer"): "Python evaluator: unpickle, call, pickle the answer",
    ("evaluator.answer", "worker.answer"): "Python evaluator -> worker (pipe)",
    ("client.done", "py.got"): "libevofarm back to the dispatch thread (ctypes, copy)",
    ("py.got", "py.result"): "dispatch thread resolves the future, caller wakes (hand-off)",
}


def main():
    prefix, skip = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    times = {}
    for name in glob.glob(prefix + ".*"):
        with open(name) as f:
            for line in f:
                point, ns = line.split()
                times.setdefault(point, []).append(int(ns))
    PATH = PY_PATH if "py.submit" in times else C_PATH
    times = {p: sorted(times.get(p, [])) for p in PATH}
    n = min(len(v) for v in times.values())
    if n <= skip:
        raise SystemExit("only %d traced round trips (%s)" % (n, ", ".join("%s %d" % (p, len(v)) for p, v in times.items())))
    total = statistics.median(times[PATH[-1]][k] - times[PATH[0]][k] for k in range(skip, n))
    print("latency budget: %d round trips, medians in microseconds" % (n - skip))
    parts = 0.0
    for a, b in zip(PATH, PATH[1:]):
        d = statistics.median(times[b][k] - times[a][k] for k in range(skip, n)) / 1000
        parts += d
        print("  %7.1f  %s" % (d, WHAT[(a, b)]))
    print("  %7.1f  round trip (%s -> %s; the parts' medians add up to %.1f)" % (total / 1000, PATH[0], PATH[-1], parts))


if __name__ == "__main__":
    main()
