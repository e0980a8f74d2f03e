"""evofarm.Executor is a real concurrent.futures.Executor."""
from conftest import SCRIPTS


def test_executor_interface_and_cancel(farm):
    p = farm.run(SCRIPTS / "executor.py")
    checks = [l for l in p.stdout.splitlines() if l.startswith(("PASS", "FAIL"))]
    assert len(checks) == 8 and all(l.startswith("PASS") for l in checks), p.stdout
    ran = int(p.stdout.split("; ")[-1].split(" ran")[0])
    done = int(p.stderr.split("evo-farm: ")[-2].split(" evaluations done")[0])
    # cancelled calls never reached the farm: it evaluated 100 + 16 chunks + 1 + the ones that ran
    assert done == 100 + 16 + 1 + ran, (done, ran, p.stderr)
