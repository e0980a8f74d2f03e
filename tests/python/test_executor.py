"""evofarm.Executor is a real concurrent.futures.Executor: one test per
behaviour (pytest -k NAME picks one), each on a farm of its own."""
import pytest

from conftest import SCRIPTS

BEHAVIOURS = ["is_a_concurrent_futures_executor", "map_in_order", "map_with_chunks", "submit_gives_a_future",
              "no_submit_after_shutdown"]


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_executor(farm, behaviour):
    p = farm.run(SCRIPTS / "executor.py", behaviour)
    assert "PASS %s" % behaviour in p.stdout.splitlines(), p.stdout + p.stderr[-2000:]


def test_queued_calls_cancel_and_never_reach_the_farm(farm):
    p = farm.run(SCRIPTS / "executor.py", "queued_calls_cancel")
    assert "PASS queued_calls_cancel" in p.stdout.splitlines(), p.stdout + p.stderr[-2000:]
    ran = int(p.stdout.split("; ")[-1].split(" ran")[0])
    done = int(p.stderr.split("evo-farm: ")[-2].split(" evaluations done")[0])
    assert done == ran, (done, ran, p.stderr)  # the cancelled calls never reached the farm
