"""evofarm.shared — SCOOP's ``scoop.shared``: constants sent once to every
worker instead of with every call.

    from evofarm import futures, shared
    shared.setConst(table=big_table)          # in the driver, once
    def evaluate(x):
        table = shared.getConst("table")      # on a worker: read once per process
        ...

The broker keeps each constant for the farm's life and sends it to every
worker process once: to those connected when it is set, and to each that
joins or replaces one later, before any call submitted after setConst. A
worker keeps it as a file of its private directory ($EVO_FARM_SHARED_DIR);
getConst unpickles it on first use in each evaluator process.
"""
import os
import pickle
import threading
import time
from typing import Any, Dict

from . import _calls

_values: Dict[str, Any] = {}  # name -> value: what this process set, or has read
_lock = threading.Lock()


def _after_fork() -> None:
    """A child forked while a thread held the lock gets a free one."""
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def setConst(**kwargs: Any) -> None:  # noqa: N802 (SCOOP's name)
    """Shares each name=value with every worker. A constant cannot change:
    setting a name twice raises TypeError, as in SCOOP. Values travel
    pickled (classes and functions by name, cloudpickle for what only it
    can send), at most 1 GiB each."""
    from . import futures
    for name in kwargs:
        if name in _values:
            raise TypeError("This constant already exists: %s." % name)
    for name, value in kwargs.items():
        data = _calls.dumps(value, "constant %r" % name)
        futures._farm()._share(name, data)
        with _lock:
            _values[name] = value


def getConst(name: str, timeout: float = 0.1) -> Any:  # noqa: N802 (SCOOP's name)
    """The constant `name`, waiting up to `timeout` seconds for it to
    arrive (it arrives before any call submitted after setConst, so the
    wait only matters for calls submitted before); None if it has not."""
    with _lock:
        if name in _values:
            return _values[name]
    directory = os.environ.get("EVO_FARM_SHARED_DIR")
    if not directory:
        return None  # the driver: only what it set itself
    path = os.path.join(directory, name)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                value = pickle.load(f)
            break
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)
    with _lock:
        return _values.setdefault(name, value)
