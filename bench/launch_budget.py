"""bench/launch_budget.py — the stages of a launch, from the strace files
bench/launch_budget.sh writes (DIR/farm.N and DIR/pool.N): for each stage
the median over the runs of the time from the stage before, in ms."""
import glob
import os
import re
import statistics
import sys

LINE = re.compile(r"^(\d+) +(\d+\.\d+) (.*)$")


def events(path):
    """(pid, seconds, call text) of each call, at the time it began (a call
    strace shows in two pieces is put back together), and the driver's pid."""
    out, driver, pending = [], None, {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            pid, t, text = int(m.group(1)), float(m.group(2)), m.group(3)
            driver = pid if driver is None else driver
            if text.endswith("<unfinished ...>"):
                pending[pid] = len(out)
                out.append((pid, t, text[:-len("<unfinished ...>")]))
            elif text.startswith("<... ") and pid in pending:
                i = pending.pop(pid)
                out[i] = (pid, out[i][1], out[i][2] + text.split("resumed>", 1)[-1])
            else:
                out.append((pid, t, text))
    return out, driver


def first(evs, test, after=0.0):
    return next((t for pid, t, text in evs if t >= after and test(pid, text)), None)


def farm_stages(path):
    evs, driver = events(path)
    t0 = evs[0][1]
    forked = first(evs, lambda p, x: p == driver and x.startswith("clone("))
    server = next(int(x.rsplit("=", 1)[1]) for p, t, x in evs if p == driver and x.startswith("clone("))
    ready = first(evs, lambda p, x: p == server and 'write(' in x and '"ready' in x)
    run = first(evs, lambda p, x: x.startswith("execve(") and '"run"' in x)
    workers = [t for p, t, x in evs if x.startswith("execve(") and '"__worker"' in x]
    wconn = [t for p, t, x in evs if p != driver and x.startswith("connect(") and '/broker"' in x]
    dconn = first(evs, lambda p, x: p == driver and x.startswith("connect(") and '/broker"' in x)
    evaluator = first(evs, lambda p, x: p == server and x.startswith("clone("), dconn)
    result = first(evs, lambda p, x: p == driver and x.startswith("write(1,"))
    end = first(evs, lambda p, x: p == driver and x.startswith("exit_group("))
    marks = [("driver: Python, imports, the script up to its map", forked),
             ("fork server: forked from the driver, until ready", ready),
             ("evo-farm run: spawned (exec)", run),
             ("evo-farm run: broker up, workers exec'd", max(workers)),
             ("workers: start until connected to the broker", max(wconn)),
             ("driver: connected to the broker", dconn),
             ("first evaluator forked", evaluator),
             ("first result printed", result),
             ("driver's exit (farm stopped)", end)]
    return t0, marks


def pool_stages(path):
    evs, driver = events(path)
    t0 = evs[0][1]
    forked = first(evs, lambda p, x: p == driver and x.startswith("clone("))
    result = first(evs, lambda p, x: p == driver and x.startswith("write(1,"))
    end = first(evs, lambda p, x: p == driver and x.startswith("exit_group("))
    return t0, [("driver: Python, imports, the script up to Pool()", forked),
                ("first result printed", result),
                ("driver's exit (pool joined)", end)]


def table(name, runs):
    print("%s (median of %d runs, ms)" % (name, len(runs)))
    print("  %-52s %9s %9s" % ("stage", "step", "at"))
    for i, (label, _) in enumerate(runs[0][1]):
        steps, ats = [], []
        for t0, marks in runs:
            before = marks[i - 1][1] if i else t0
            steps.append((marks[i][1] - before) * 1000)
            ats.append((marks[i][1] - t0) * 1000)
        print("  %-52s %9.1f %9.1f" % (label, statistics.median(steps), statistics.median(ats)))


def main():
    d = sys.argv[1]
    farm = [farm_stages(p) for p in sorted(glob.glob(os.path.join(d, "farm.[0-9]*")))]
    pool = [pool_stages(p) for p in sorted(glob.glob(os.path.join(d, "pool.[0-9]*")))]
    table("evofarm, python3 script.py (a local farm)", farm)
    table("multiprocessing.Pool", pool)
    ratio = statistics.median((f[1][-2][1] - f[0]) / (p[1][-2][1] - p[0]) for f, p in zip(farm, pool))
    print("first result, evofarm / Pool, median of the runs' ratios: %.2f" % ratio)


if __name__ == "__main__":
    main()
