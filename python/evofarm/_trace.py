"""Timestamps along the Python hot path, for the latency budget
(bench/latency_budget.py): off unless EVO_FARM_TRACE=PREFIX is set, as for
the C processes (util/trace.h); then each process writes its events to
PREFIX.PID at exit, one "POINT NANOSECONDS" line each (CLOCK_MONOTONIC)."""
import atexit
import os
import time

_prefix = os.environ.get("EVO_FARM_TRACE")
_events = []
on = bool(_prefix)


def point(name):
    if len(_events) < 65536:
        _events.append((name, time.monotonic_ns()))


def write() -> None:
    with open("%s.%d" % (_prefix, os.getpid()), "a") as f:
        f.writelines("%s %d\n" % e for e in _events)


if on:
    atexit.register(write)
