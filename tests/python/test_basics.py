"""evofarm.futures against a real farm: the scoop.futures API and its
errors, one test per behaviour (pytest -k NAME picks one)."""
import pytest

from conftest import SCRIPTS

BEHAVIOURS = ["map_is_lazy_and_ordered", "map_of_two_iterables", "submit_with_kwargs", "wait_and_as_completed",
              "map_as_completed", "prints_stay_out_of_the_frames", "exception_reraised_with_its_traceback",
              "lambda_refused", "closure_refused", "unknown_keyword_refused", "function_under_the_main_guard_explained"]


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_futures(farm, behaviour):
    p = farm.run(SCRIPTS / "basics.py", behaviour)
    assert "PASS %s" % behaviour in p.stdout.splitlines(), p.stdout + p.stderr[-2000:]
    # nothing failed at the farm's level: exceptions are answers, and what
    # could not be pickled was refused in the driver, before sending
    assert " evaluations done, 0 failed, 0 retried" in p.stderr, p.stderr
    if behaviour == "prints_stay_out_of_the_frames":
        assert "printed by the user's function" in p.stderr
