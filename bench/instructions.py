"""A generation's instructions, from the logs of two runs of one peer under
valgrind's cachegrind (--trace-children=yes, --log-file=DIR/%p: one log per
process, forked ones included), the same job at two lengths: each kind of
process's instructions in the longer run less the shorter's, over the
generations between. Start-up, imports and exit cancel out; what is left
is what the generations cost, and an instruction count does not depend on
what the other core does. bench/python_peers.sh's instructions mode.
Usage: instructions.py PEER GENERATIONS SHORT_DIR LONG_DIR"""
import collections
import os
import re
import sys


def processes(directory):
    """{pid: (command, parent pid, instructions)} of one run's logs."""
    found = {}
    for name in os.listdir(directory):
        command, parent, refs = "?", 0, None
        with open(os.path.join(directory, name), errors="replace") as f:
            for line in f:
                m = re.match(r"==\d+== Command: (.*)", line)
                if m:
                    command = m.group(1).strip()
                m = re.match(r"==\d+== Parent PID: (\d+)", line)
                if m:
                    parent = int(m.group(1))
                m = re.match(r"==\d+== I\s+refs:\s+([\d,]+)", line)
                if m:
                    refs = int(m.group(1).replace(",", ""))
        if refs is not None and name.isdigit():
            found[int(name)] = (command, parent, refs)
    return found


def kind(command):
    """What a process is, from its command line."""
    words = command.split()
    if words and os.path.basename(words[0]) == "evo-farm":
        return "evo-farm " + (words[1] if len(words) > 1 else "")
    if "python_peers.py" in command:
        return "Python driver"
    if "evofarm._forkserver" in command:
        return "Python fork server"
    if "evofarm._evaluator" in command:
        return "Python evaluator"
    return os.path.basename(words[0]) if words else "?"


def kinds(found):
    """{kind: [process count, instructions]}; a process forked from one of
    the same command is the parent's kind with " (forked)" (a Pool worker
    from the driver, an evaluator from the fork server, an evo-farm worker
    from the launcher)."""
    out = collections.defaultdict(lambda: [0, 0])
    for pid, (command, parent, refs) in found.items():
        k = kind(command)
        if parent in found and found[parent][0] == command:
            k += " (forked)"
        out[k][0] += 1
        out[k][1] += refs
    return out


def main():
    peer, generations, short_dir, long_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    short, long = kinds(processes(short_dir)), kinds(processes(long_dir))
    total = sum(v[1] for v in long.values()) - sum(v[1] for v in short.values())
    print("  instructions %-8s a generation: %.2f M (%d generations' difference; processes: %d)"
          % (peer, total / generations / 1e6, generations, sum(v[0] for v in long.values())))
    for k in sorted(long, key=lambda k: -(long[k][1] - short.get(k, [0, 0])[1])):
        per = (long[k][1] - short.get(k, [0, 0])[1]) / generations
        print("  instructions %-8s   %8.2f M  %5.1f %%  %s (%d)" % (peer, per / 1e6, 100 * per * generations / total
                                                                 if total else 0, k, long[k][0]))


if __name__ == "__main__":
    main()
