"""evofarm.futures against a real farm: the scoop.futures API, errors."""
from conftest import SCRIPTS


def test_futures_api_and_errors(farm):
    p = farm.run(SCRIPTS / "basics.py")
    lines = p.stdout.splitlines()
    checks = [l for l in lines if l.startswith(("PASS", "FAIL"))]
    assert len(checks) == 13, p.stdout
    assert all(l.startswith("PASS") for l in checks), p.stdout
    # nothing failed at the farm's level: exceptions are answers, and what
    # could not be pickled was refused in the driver, before sending
    assert " evaluations done, 0 failed, 0 retried" in p.stderr, p.stderr
    assert "printed by the user's function" in p.stderr
