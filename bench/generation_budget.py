"""Where a generation's time goes, from the trace files of one traced run of
the tutorial's job (EVO_FARM_TRACE=PREFIX, util/trace.h and
evofarm/_trace.py; bench/generation_budget.sh makes them). A generation
runs from one map's start (py.map, in the driver) to the next's; in it:

  DEAP's own work      the last py.result -> the next map (update, generate)
  chunk and pickle     py.map -> the first py.submit (the calls encoded)
  to the first evaluator  the first py.submit -> the first evaluator.read
  evaluating           the first evaluator.read -> the last evaluator.answer
  back to the driver   the last evaluator.answer -> the last py.got
  the driver's end     the last py.got -> the last py.result (the last
                       chunk's values in the reader's hands)

and, summed over the generation's tasks (they overlap on 2 cores), what
each part of a task's way costs. Medians over the generations after the
first SKIP (default 5).
Usage: generation_budget.py PREFIX [SKIP]"""
import glob
import statistics
import sys

CRITICAL = [
    ("DEAP's own work (update, generate): the driver between two maps", "py.result$", "py.map+"),
    ("driver: chunk the population, pickle the calls", "py.map", "py.submit"),
    ("driver -> broker -> worker -> the first evaluator", "py.submit", "evaluator.read"),
    ("evaluating: the first call read -> the last answer written", "evaluator.read", "evaluator.answer$"),
    ("the last answer -> worker -> broker -> the driver's dispatch thread", "evaluator.answer$", "py.got$"),
    ("driver: the last answer decoded, its values read", "py.got$", "py.result$"),
]
# per task, summed over a generation: (what, from, to, process where both are)
PER_TASK = [
    ("driver: pickled calls into libevofarm (ctypes)", "py.send", "client.submit"),
    ("broker: SUBMIT in -> TASKS out", "broker.submit", "broker.tasks"),
    ("worker: TASKS in -> written to the evaluator", "worker.tasks", "worker.write"),
    ("evaluator: unpickle the call", "evaluator.read", "evaluator.loaded"),
    ("evaluator: the function over the chunk", "evaluator.loaded", "evaluator.called"),
    ("evaluator: pickle the answer", "evaluator.called", "evaluator.answer"),
    ("worker: answer read -> RESULTS out", "worker.answer", "worker.results"),
    ("broker: RESULTS in -> DONE out", "broker.results", "broker.done"),
    ("dispatch thread: answer out of libevofarm, decoded, future set", "py.got", "py.resolved"),
]


def read(prefix):
    """[(ns, point, pid)] of every trace file, in time order."""
    events = []
    for name in glob.glob(prefix + ".*"):
        pid = int(name.rsplit(".", 1)[1])
        with open(name) as f:
            for line in f:
                point, ns = line.split()
                events.append((int(ns), point, pid))
    events.sort()
    return events


def find(events, point, last=False):
    """The time of the first (or last) event `point` in events, or None."""
    times = [t for t, p, _ in events if p == point]
    return (times[-1] if last else times[0]) if times else None


def pairs(events, start, end):
    """The durations start -> end within each process, each start paired
    with the next end after it in the same process."""
    out, open_at = [], {}
    for t, p, pid in events:
        if p == start:
            open_at.setdefault(pid, []).append(t)
        elif p == end and open_at.get(pid):
            out.append(t - open_at[pid].pop(0))
    return out


def main():
    prefix, skip = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    events = read(prefix)
    starts = [t for t, p, _ in events if p == "py.map"]
    if len(starts) <= skip + 2:
        raise SystemExit("only %d traced maps in %s.*" % (len(starts), prefix))
    rows = {what: [] for what, _, _ in CRITICAL}
    sums = {what: [] for what, _, _ in PER_TASK}
    tasks, lengths = [], []
    for g in range(skip, len(starts) - 1):
        gen = [e for e in events if starts[g] <= e[0] < starts[g + 1]]
        nxt = starts[g + 1]
        lengths.append(nxt - starts[g])
        tasks.append(sum(1 for e in gen if e[1] == "evaluator.read"))
        for what, a, b in CRITICAL:
            ta = nxt if a == "py.map+" else find(gen, a.rstrip("$"), a.endswith("$"))
            tb = nxt if b == "py.map+" else find(gen, b.rstrip("$"), b.endswith("$"))
            if ta is not None and tb is not None:
                rows[what].append(tb - ta)
        for what, a, b in PER_TASK:
            sums[what].append(sum(pairs(gen, a, b)))
    print("generation budget: %d generations, %s tasks each (median), medians in microseconds"
          % (len(lengths), statistics.median(tasks)))
    print("  the critical path of a generation:")
    total = 0.0
    for what, _, _ in CRITICAL:
        if rows[what]:
            d = statistics.median(rows[what]) / 1000
            total += d
            print("  %8.1f  %s" % (d, what))
    print("  %8.1f  a generation (map to map; the parts' medians add up to %.1f)"
          % (statistics.median(lengths) / 1000, total))
    print("  summed over a generation's tasks (they overlap):")
    for what, _, _ in PER_TASK:
        if any(sums[what]):
            print("  %8.1f  %s" % (statistics.median(sums[what]) / 1000, what))


if __name__ == "__main__":
    main()
