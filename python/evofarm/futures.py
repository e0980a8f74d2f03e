"""evofarm.futures — the functions of ``scoop.futures`` with the same names
and meaning, on an evo-farm:

    from evofarm import futures
    results = list(futures.map(evaluate, population))   # ordered, lazy
    f = futures.submit(fn, *args, **kwargs)             # a Future

map_as_completed, wait, as_completed and shutdown as in SCOOP. The farm is
the one this driver runs in (one Executor per process, made on first use).
"""
import atexit
import concurrent.futures as cf
import itertools
import os
import threading

from . import _calls
from .executor import Executor

FIRST_COMPLETED = cf.FIRST_COMPLETED
FIRST_EXCEPTION = cf.FIRST_EXCEPTION
ALL_COMPLETED = cf.ALL_COMPLETED

_executor = None
_lock = threading.Lock()


def _farm():
    global _executor
    with _lock:
        if _executor is None:
            _executor = Executor()
            atexit.register(shutdown)
        return _executor


def submit(fn, *args, **kwargs):
    """Runs fn(*args, **kwargs) on a worker; returns a concurrent.futures.Future."""
    return _farm().submit(fn, *args, **kwargs)


def _chunksize(n):
    """About sixteen chunks per worker, at most 1000 calls each: small
    enough to balance uneven calls and to keep every worker busy while the
    driver is still sending, large enough that a trivial call costs
    little more than its pickling. A generation of a few hundred costly
    evaluations on dozens of workers goes one call per task."""
    workers = max(1, int(os.environ.get("EVO_FARM_WORKERS", "1") or 1))
    return max(1, min(1000, -(-n // (16 * workers))))


def map(fn, *iterables, **kwargs):
    """Like SCOOP's futures.map: every call is submitted at once, the
    results are yielded in order as they are needed. An exception raised
    by fn on a worker is re-raised here when its result is reached.
    Calls travel in chunks (see _chunksize), as Pool.map's do;
    chunksize=N sets their size, 1 sends each call as its own task."""
    timeout = kwargs.pop("timeout", None)
    chunksize = kwargs.pop("chunksize", None)
    if kwargs:
        raise TypeError("unexpected keyword arguments: %s" % ", ".join(kwargs))
    star = len(iterables) != 1  # one iterable: send the items, not 1-tuples
    calls = list(zip(*iterables)) if star else list(iterables[0])
    size = chunksize or _chunksize(len(calls))
    if size < 1:
        raise ValueError("chunksize must be >= 1")
    chunks = _farm().submit_many(_calls.run_chunk, [(fn, calls[i:i + size], star) for i in range(0, len(calls), size)])

    def chunk_values(f):
        values, errors = f.result(timeout)
        return values if not errors else _with_errors(values, errors)
    # lazy, one chunk at a time; chain hands out each chunk's values in C
    return itertools.chain.from_iterable(chunk_values(f) for f in chunks)


def _with_errors(values, errors):
    for i, value in enumerate(values):
        if i in errors:
            _calls.raise_remote(*errors[i])
        yield value


def map_as_completed(fn, *iterables, **kwargs):
    """Like map, but yields each result as soon as it is ready."""
    timeout = kwargs.pop("timeout", None)
    futures = _farm().submit_many(fn, list(zip(*iterables)))
    for f in cf.as_completed(futures, timeout=timeout):
        yield f.result()


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """concurrent.futures.wait over evofarm futures: (done, not_done)."""
    return cf.wait(fs, timeout=timeout, return_when=return_when)


def as_completed(fs, timeout=None):
    """Yields the futures of fs as they complete."""
    return cf.as_completed(fs, timeout=timeout)


def shutdown(wait=True):
    """Waits for the outstanding calls and closes the connection to the farm."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=wait)
