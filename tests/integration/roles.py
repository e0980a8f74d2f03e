"""roles.py — run as a farm's Python driver by test_roles.sh and the Slurm
suite: every call reports its evaluator's EVO_FARM_ variables and its
worker's environment (EVO_FARM_MEMBER_PID's, as it was started), and
submits a nested future; the driver checks that neither holds its key,
that the evaluator does not hold its worker's, and that the nested calls
were answered. Prints "roles ok"."""
import os
from evofarm import futures

def square(x):
    return x * x

def look(x):
    mine = {k: v for k, v in os.environ.items() if k.startswith("EVO_FARM_")}
    with open("/proc/%d/environ" % int(os.environ["EVO_FARM_MEMBER_PID"]), "rb") as f:
        worker = dict(v.split("=", 1) for v in f.read().decode(errors="replace").split("\0") if "=" in v)
    return mine, worker, futures.submit(square, x).result()

if __name__ == "__main__":
    driver_public, driver_secret = os.environ["EVO_FARM_CLIENT_PUBLIC"], os.environ["EVO_FARM_CLIENT_SECRET"]
    assert "EVO_FARM_NESTED_SECRET" not in os.environ and "EVO_FARM_WORKER_SECRET" not in os.environ
    for mine, worker, nested in futures.map(look, range(40)):
        assert driver_secret not in "".join(worker.values()), "a worker holds the driver's key"
        assert driver_secret not in "".join(mine.values()), "an evaluator holds the driver's key"
        assert worker["EVO_FARM_CLIENT_PUBLIC"] != driver_public, "a worker connects with the driver's key"
        assert mine["EVO_FARM_CLIENT_PUBLIC"] not in (driver_public, worker["EVO_FARM_CLIENT_PUBLIC"]), mine
        assert worker["EVO_FARM_CLIENT_SECRET"] not in "".join(mine.values()), "an evaluator has its worker's key"
        assert not any(k.startswith(("EVO_FARM_WORKER_", "EVO_FARM_NESTED_")) for k in mine), mine
    assert [n for _, _, n in futures.map(look, range(8))] == [x * x for x in range(8)]
    print("roles ok")
