"""evofarm.futures — the functions of ``scoop.futures`` with the same names
and meaning, on an evo-farm:

    from evofarm import futures
    results = list(futures.map(evaluate, population))   # ordered, lazy
    f = futures.submit(fn, *args, **kwargs)             # a Future

map_as_completed, mapReduce, mapScan, wait, as_completed and shutdown as in
SCOOP. The farm is
the one this driver runs in (one Executor per process, made on first use).
"""
import atexit
import concurrent.futures as cf
import functools
import itertools
import os
import threading
import time
from typing import Any, Callable, Iterable, Iterator, List, Optional, TypeVar

from . import _window
from .executor import Executor

FIRST_COMPLETED = cf.FIRST_COMPLETED
FIRST_EXCEPTION = cf.FIRST_EXCEPTION
ALL_COMPLETED = cf.ALL_COMPLETED

T = TypeVar("T")

_executor: Optional[Executor] = None
_lock = threading.Lock()


def _after_fork() -> None:
    """In a child forked while a thread held the lock, or with the parent's
    executor (whose thread and connection are the parent's): neither."""
    global _lock, _executor
    _lock = threading.Lock()
    _executor = None


os.register_at_fork(after_in_child=_after_fork)


def _farm() -> Executor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = Executor()
            atexit.register(_at_exit)
        return _executor


def submit(fn: Callable[..., T], *args: Any, **kwargs: Any) -> "cf.Future[T]":
    """Runs fn(*args, **kwargs) on a worker; returns a concurrent.futures.Future."""
    return _farm().submit(fn, *args, **kwargs)


def map(fn: Callable[..., T], *iterables: Iterable[Any], timeout: Optional[float] = None,
        chunksize: Optional[int] = None) -> Iterator[T]:
    """Like SCOOP's futures.map: the results are yielded in order as they
    are needed; the first window of calls is submitted now, the rest as
    results are consumed (the input is read lazily, so memory stays
    bounded). An exception raised by fn on a worker is re-raised here when
    its result is reached. Calls travel in chunks (Executor._map_chunks), as
    Pool.map's do; chunksize=N sets their size, 1 sends each call as its
    own task. A negative timeout is no limit, as in SCOOP's wait (SCOOP's
    map takes any timeout and ignores it)."""
    if chunksize is not None and chunksize < 1:
        raise ValueError("chunksize must be >= 1")
    return _farm()._map_chunks(fn, iterables, chunksize, _limit(timeout))


def map_as_completed(fn: Callable[..., T], *iterables: Iterable[Any], timeout: Optional[float] = None) -> Iterator[T]:
    """Like map, but yields each result as soon as it is ready (each call
    its own task). The input is read as results are consumed: at most the
    executor's window of calls is in the farm or waiting for its reader;
    the timeout counts from this call."""
    timeout = _limit(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    executor = _farm()
    return _window.as_completed(executor, fn, zip(*iterables), executor._map_window(), deadline, wait)


def mapReduce(mapFunc: Callable[..., T], reductionOp: Callable[[T, T], T], *iterables: Iterable[Any],  # noqa: N802
              timeout: Optional[float] = None, chunksize: Optional[int] = None) -> T:
    """Like SCOOP's futures.mapReduce: mapFunc over the iterables on the
    workers, then the results folded with reductionOp, in order, into one
    value (functools.reduce of map's results). kwargs as for map."""
    return functools.reduce(reductionOp, map(mapFunc, *iterables, timeout=timeout, chunksize=chunksize))


def mapScan(mapFunc: Callable[..., T], reductionOp: Callable[[T, T], T], *iterables: Iterable[Any],  # noqa: N802
            timeout: Optional[float] = None, chunksize: Optional[int] = None) -> List[T]:
    """Like SCOOP's futures.mapScan: mapReduce that keeps every
    intermediate value, in order (itertools.accumulate of map's results),
    as a list."""
    return list(itertools.accumulate(map(mapFunc, *iterables, timeout=timeout, chunksize=chunksize), reductionOp))


def _helper(fs: List["cf.Future[Any]"]) -> Optional[Executor]:
    """Inside a task: the executor that runs the task's own unstarted calls
    while it waits (see Executor._help); else None."""
    helpers = (getattr(f, "_helper", None) for f in fs)
    return next((h for h in helpers if isinstance(h, Executor)), None)


def _limit(timeout: Optional[float]) -> Optional[float]:
    """SCOOP's meaning of a timeout: a negative one (SCOOP's wait defaults
    to -1) is no limit, as None is; concurrent.futures would return at once."""
    return None if timeout is None or timeout < 0 else timeout


def wait(fs: Iterable["cf.Future[T]"], timeout: Optional[float] = None,
         return_when: str = ALL_COMPLETED) -> "cf._base.DoneAndNotDoneFutures[T]":
    """concurrent.futures.wait over evofarm futures: (done, not_done); a
    negative timeout, SCOOP's default, waits without limit."""
    fs = list(fs)
    timeout = _limit(timeout)
    helper = _helper(list(fs))
    if helper is not None:
        if return_when == FIRST_EXCEPTION:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not any(f.done() and not f.cancelled() and f.exception() for f in fs) and \
                    not all(f.done() for f in fs):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                helper._help(fs, sum(f.done() for f in fs) + 1, left)
        else:
            helper._help(fs, len(fs) if return_when == ALL_COMPLETED else 1, timeout)
        timeout = 0 if timeout is not None else None
    return cf.wait(fs, timeout=timeout, return_when=return_when)


def as_completed(fs: Iterable["cf.Future[T]"], timeout: Optional[float] = None) -> Iterator["cf.Future[T]"]:
    """Yields the futures of fs as they complete (a negative timeout: no limit)."""
    fs = list(fs)
    timeout = _limit(timeout)
    helper = _helper(fs)
    if helper is None:
        yield from cf.as_completed(fs, timeout=timeout)
        return
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = set(fs)
    while pending:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise cf.TimeoutError("%d (of %d) futures unfinished" % (len(pending), len(fs)))
        helper._help(list(pending), 1, left)
        for f in [f for f in pending if f.done()]:
            pending.discard(f)
            yield f


def _at_exit() -> None:
    """shutdown(), without submitting the rest of maps nobody will read."""
    executor = _executor
    if executor is not None:
        executor._stop_maps()
    shutdown()


def shutdown(wait: bool = True) -> None:
    """Waits for the outstanding calls and closes the connection to the farm."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=wait)
