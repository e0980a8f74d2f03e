"""The rejection-ABC example with evofarm.Executor: exactly N accepted, the
rest cancelled, and cancelled work does not keep the workers busy."""
from conftest import ROOT

SCRIPT = ROOT / "examples" / "abc" / "abc_rejection.py"


def test_rejection_abc_exact_and_cancelled(farm):
    p = farm.run(SCRIPT, 50, "--delay", "0.002", "--in-flight", "300")
    first = p.stdout.splitlines()[0].split(", ")
    accepted = int(first[0].split()[1])
    evaluated = int(first[1].split()[1])
    cancelled = int(first[2].split()[1])
    running = int(first[3].split()[0])
    unseen = int(first[4].split()[0])
    assert accepted == 50, p.stdout
    assert cancelled > 0, p.stdout
    done = int(p.stderr.split("evo-farm: ")[-2].split(" evaluations done")[0])
    # the farm evaluated what the sampler saw, what was running (at most the
    # executor's window of 64) and what had finished since its last look
    # (a run once counted 66 "running" by lumping those two together):
    # cancelled proposals never ran
    assert done == evaluated + running + unseen and running <= 64, (p.stdout, p.stderr)
    mean = float(p.stdout.splitlines()[1].split()[2])
    assert abs(mean - 2.0) < 0.3, p.stdout
