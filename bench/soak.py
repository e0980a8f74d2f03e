#!/usr/bin/python3
"""bench/soak.py — does a long run's memory stay flat?

    bench/soak.py [--generations 10000] [--at 100] [--workers 2] [--checkpoint N] [cmaes] [python]

cmaes:  `evo-farm run FILE` with the built-in CMA-ES (lambda 10, the sphere
        of build/examples/libtestfns.so in 40-D, tolfun and tolx 0 so that
        only the generation limit stops it: in 10-D it reaches 0 and stops
        on stagnation near generation 6,000). The generation is read from
        outside: the rows of OUTPUT/logbook.csv, appended and flushed once
        per generation. The run is given 50 generations more than the last
        sampling point, so that its processes are still there to be read.
python: a plain `python3` script (its embedded farm) looping GENERATIONS
        times over futures.map of 10 candidates (a (1+10)-ES on a 10-D
        sphere written in Python); the loop samples /proc itself.

At generation --at and at --generations, every process of the farm is read
(/proc/PID/status: VmRSS, and RssAnon, the heap and other private memory,
where a leak shows first) and the change is printed per process, as a
Markdown table. Goal (reported, not asserted): within 5 %."""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / os.environ.get("BUILD", "build")
EVO = BUILD / "bin" / "evo-farm"

ROLES = (("run", "broker (evo-farm run)"), ("__drive", "driver (evo-farm __drive)"),
         ("__hold", "evo-farm __hold"), ("__worker", "worker"),
         ("__evaluate-library", "evaluator child (library)"), ("evofarm._evaluator", "evaluator child (Python evaluator)"))


def memory(pid):
    """{'VmRSS': KiB, 'RssAnon': KiB} of a process, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon")}


def children():
    """{parent pid: [child pids]} of every process now."""
    tree = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(name))
    return tree


def role(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None
    for word, name in ROLES:
        if word in argv[1:4]:
            return name
    return None


def sample(root, driver=None):
    """{label: memory} of the farm under process `root` (its descendants
    with a role; workers and their children numbered in pid order), plus
    `driver` (a label) for root itself."""
    tree, found, todo = children(), [], [root]
    while todo:
        pid = todo.pop()
        kids = sorted(tree.get(pid, []))
        found += [(kid, role(kid)) for kid in kids]
        todo += kids
    counts, out = {}, {}
    if driver:
        out[driver] = memory(root)
    for pid, name in sorted(found):
        if name is None:
            continue
        counts[name] = counts.get(name, 0) + 1
        out["%s %d" % (name, counts[name]) if name.startswith(("worker", "evaluator")) else name] = memory(pid)
    return out


def cmaes(generations, at, workers, tmp, checkpoint=None):
    """The built-in CMA-ES: samples at `at` and `generations` generations;
    checkpoint: optimize.checkpoint (None: its default, every 10)."""
    out = tmp / "results"
    config = tmp / "soak.yaml"
    every = "" if checkpoint is None else ", checkpoint: %d" % checkpoint
    config.write_text("evaluate: {library: %s, function: sphere}\n"
                      "optimize: {strategy: cma-es, dimension: 40, centroid: 1.0, sigma: 0.5, lambda: 10,\n"
                      "           generations: %d, tolfun: 0, tolx: 0, seed: 1%s}\n"
                      "output: {dir: %s}\n" % (BUILD / "examples" / "libtestfns.so", generations + 50, every, out))
    print(config.read_text(), end="")
    command = [str(EVO), "run", str(config), "-n", str(workers), "-q"]
    print("cmaes:", " ".join(command), flush=True)
    with open(tmp / "cmaes.log", "w") as log:
        farm = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    start, rows, seen, samples = time.monotonic(), 0, 0, {}
    logbook = out / "logbook.csv"
    while farm.poll() is None and len(samples) < 2:
        try:
            with open(logbook, "rb") as f:  # rows after the header: generations done
                f.seek(seen)
                chunk = f.read()
        except OSError:
            chunk = b""
        seen += len(chunk)
        rows += chunk.count(b"\n")
        for point in (at, generations):
            if rows - 1 >= point and point not in samples:
                samples[point] = (rows - 1, time.monotonic() - start, sample(farm.pid, "broker (evo-farm run)"))
        time.sleep(0.001)
    farm.wait()
    if len(samples) < 2:
        sys.exit("cmaes: the run ended before generation %d (see %s)" % (generations, tmp / "cmaes.log"))
    return samples


def python_loop(generations, at, workers, tmp, checkpoint=None):
    """The Python loop, run as a plain script (an embedded farm)."""
    command = [sys.executable, str(pathlib.Path(__file__).resolve()), "--loop", str(generations), str(at)]
    print("python:", " ".join(command), flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVO_FARM_")}
    env.update(PYTHONPATH=str(ROOT / "python"), EVO_FARM_WORKERS=str(workers))
    p = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        sys.exit("python: the loop failed:\n" + p.stderr[-3000:])
    return {int(k): tuple(v) for k, v in json.loads(p.stdout.splitlines()[-1]).items()}


def sphere(x):
    return sum(v * v for v in x)


def loop(generations, at):
    """The driver of the python part: a (1+10)-ES with the 1/5 rule."""
    import random
    from evofarm import futures
    rng = random.Random(1)
    best, sigma, fit = [1.0] * 10, 0.5, None
    start, samples = time.monotonic(), {}
    for generation in range(1, generations + 1):
        candidates = [[v + sigma * rng.gauss(0, 1) for v in best] for _ in range(10)]
        values = list(futures.map(sphere, candidates))
        better = sum(fit is None or v < fit for v in values)
        i = min(range(10), key=values.__getitem__)
        if fit is None or values[i] < fit:
            best, fit = candidates[i], values[i]
        sigma = max(sigma * (1.5 if better >= 2 else 0.9), 1e-300)
        if generation in (at, generations):
            samples[generation] = (generation, time.monotonic() - start, sample(os.getpid(), "driver (python3)"))
    print(json.dumps(samples))


def report(name, samples, at, generations):
    (g0, t0, first), (g1, t1, last) = samples[at], samples[generations]
    print("\n%s: generation %d at %.1f s, generation %d at %.1f s\n" % (name, g0, t0, g1, t1))
    print("| process | VmRSS at %d | VmRSS at %d | change | RssAnon at %d | RssAnon at %d |" % (at, generations, at,
                                                                                             generations))
    print("|---|---|---|---|---|---|")
    for label, a in first.items():
        b = last.get(label)
        if a is None or b is None:
            print("| %s | gone |  |  |  |  |" % label)
            continue
        print("| %s | %d KiB | %d KiB | %+.1f %% | %d KiB | %d KiB |"
              % (label, a["VmRSS"], b["VmRSS"], 100.0 * (b["VmRSS"] - a["VmRSS"]) / a["VmRSS"],
                 a["RssAnon"], b["RssAnon"]))


def main():
    if sys.argv[1:2] == ["--loop"]:
        return loop(int(sys.argv[2]), int(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=10000)
    parser.add_argument("--at", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--checkpoint", type=int, help="cmaes: optimize.checkpoint (default: its default, 10)")
    parser.add_argument("parts", nargs="*", help="cmaes, python (default: both)")
    args = parser.parse_args()
    if not set(args.parts) <= {"cmaes", "python"}:
        parser.error("the parts are cmaes and python")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        for part in args.parts or ["cmaes", "python"]:
            run = cmaes if part == "cmaes" else python_loop
            report(part, run(args.generations, args.at, args.workers, pathlib.Path(tmp), args.checkpoint), args.at,
                   args.generations)


if __name__ == "__main__":
    main()
