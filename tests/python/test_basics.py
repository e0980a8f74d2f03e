"""evofarm.futures against a real farm: the scoop.futures API, errors."""
from conftest import SCRIPTS


def test_futures_api_and_errors(farm):
    p = farm.run(SCRIPTS / "basics.py")
    lines = p.stdout.splitlines()
    checks = [l for l in lines if l.startswith(("PASS", "FAIL"))]
    assert len(checks) == 13, p.stdout
    assert all(l.startswith("PASS") for l in checks), p.stdout
    # the lambda was refused before anything was sent: every evaluation the
    # farm did succeeded, and it did exactly the ones the script submitted
    done = int(p.stderr.split("evo-farm: ")[-2].split(" evaluations done")[0])
    assert done == 2000 + 3 + 1 + 50 + 30 + 20 + 1 + 1, p.stderr
    assert "printed by the user's function" in p.stderr
