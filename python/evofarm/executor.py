"""evofarm.Executor: a concurrent.futures.Executor whose calls run on the
farm's workers. One background thread owns the farm connection: it sends
queued calls (at most a window of them in the farm at once, so that
cancelling the rest really stops them) and resolves futures as answers
come back, in completion order."""
import collections
import concurrent.futures as cf
import os
import threading
import uuid

from . import _calls, _embedded
from ._client import Client
from ._errors import FarmError


class Executor(cf.Executor):
    """Runs fn(*args, **kwargs) on the farm's workers.

    Inside a farm (evo-farm run, a Slurm step) that farm; outside any, a
    local farm started for this process with max_workers workers (default
    EVO_FARM_WORKERS, else one per core) and stopped at exit.
    initializer(*initargs) runs once in each worker process before its
    first call of this executor (also in a process that joins or replaces
    one later), as with ProcessPoolExecutor.
    window: calls in the farm at once (default: 4 per worker, at least 64);
    the rest wait in this process, where cancel() stops them for good."""

    def __init__(self, max_workers=None, initializer=None, initargs=(), *, window=None):
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        # every call carries the initializer (by name), so that a worker
        # process that joins or replaces another runs it before its first call
        self._init = (uuid.uuid4().hex, initializer, tuple(initargs)) if initializer else None
        _embedded.ensure(max_workers)
        self._workers = max(1, int(os.environ.get("EVO_FARM_WORKERS", "0") or 0))
        self._window = window or max(64, 4 * self._workers)
        self._main = _calls.main_path()
        self._client = Client()
        self._lock = threading.Condition()
        self._queue = collections.deque()  # (future, payload) not yet sent
        self._sent = {}                    # tag -> future
        self._shutdown = False
        self._failure = None
        self._thread = threading.Thread(target=self._run, name="evofarm-dispatch", daemon=True)
        self._thread.start()

    # -- the dispatch thread -------------------------------------------------
    def _run(self):
        try:
            while True:
                with self._lock:
                    while not self._queue and not self._sent and not self._shutdown:
                        self._lock.wait()
                    if self._shutdown and not self._queue and not self._sent:
                        return
                    batch = []
                    while self._queue and len(self._sent) + len(batch) < self._window:
                        future, payload = self._queue.popleft()
                        if future.set_running_or_notify_cancel():
                            batch.append((future, payload))
                if batch:
                    first = self._client.submit([p for _, p in batch])
                    with self._lock:
                        for i, (future, _) in enumerate(batch):
                            self._sent[first + i] = future
                    batch = future = payload = None  # only _sent holds them now (results die with their reader)
                if self._sent:
                    self._collect()
        except BaseException as e:  # the farm went away: fail everything
            self._fail_all(e if isinstance(e, FarmError) else FarmError(str(e)))

    def _collect(self):
        got = self._client.wait(20)
        while got is not None:
            tag, data, error = got
            with self._lock:
                future = self._sent.pop(tag, None)
            if future is not None:
                if error is not None:
                    future.set_exception(FarmError(error))
                else:
                    try:
                        future.set_result(_calls.decode_answer(data))
                    except BaseException as e:
                        future.set_exception(e)
            future = data = None  # this thread keeps no result alive
            got = self._client.wait(0) if self._sent else None

    def _fail_all(self, error):
        with self._lock:
            self._failure = error
            pending = list(self._sent.values()) + [f for f, _ in self._queue]
            self._sent.clear()
            self._queue.clear()
        for future in pending:
            if not future.done() and (future.running() or future.set_running_or_notify_cancel()):
                future.set_exception(error)

    # -- the Executor interface ----------------------------------------------
    def submit(self, fn, /, *args, **kwargs):
        return self.submit_many(fn, [args], kwargs)[0]

    def submit_many(self, fn, arg_tuples, kwargs=None):
        """submit(fn, *args, **kwargs) for each args of arg_tuples, queued
        at once (one wake-up of the dispatch thread); a list of futures."""
        kwargs = kwargs or {}
        if self._init is None:
            payloads = [_calls.encode(fn, args, kwargs, self._main) for args in arg_tuples]
        else:
            payloads = [_calls.encode(_calls.run_initialized, (*self._init, fn, args, kwargs), {}, self._main)
                        for args in arg_tuples]
        futures = [cf.Future() for _ in payloads]
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new calls after shutdown")
            if self._failure is not None:
                raise self._failure
            self._queue.extend(zip(futures, payloads))
            self._lock.notify()
        return futures

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """Like ProcessPoolExecutor.map: results in order, lazily;
        chunksize > 1 sends that many calls as one task."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1")
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout)
        return self.map_chunks(fn, iterables, chunksize, timeout)

    def map_chunks(self, fn, iterables, chunksize=None, timeout=None):
        """fn over zip(*iterables) in tasks of chunksize calls (None: see
        _chunksize), all queued at once; the results in order, lazily, each
        dropped here once yielded. A call that raised re-raises at its own
        element."""
        star = len(iterables) != 1  # one iterable: send the items, not 1-tuples
        calls = list(zip(*iterables)) if star else list(iterables[0])
        chunksize = chunksize or _chunksize(len(calls), self._workers)
        chunks = self.submit_many(_calls.run_chunk,
                                  [(fn, calls[i:i + chunksize], star) for i in range(0, len(calls), chunksize)])

        return _each_value(collections.deque(chunks), timeout)

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                for future, _ in self._queue:
                    future.cancel()
                self._queue.clear()
            self._lock.notify()
        if wait:
            self._thread.join()
            self._client.close()


def _chunksize(n, workers):
    """About sixteen chunks per worker, at most 1000 calls each: small
    enough to balance uneven calls and to keep every worker busy while the
    driver is still sending, large enough that a trivial call costs
    little more than its pickling. A generation of a few hundred costly
    evaluations on dozens of workers goes one call per task."""
    return max(1, min(1000, -(-n // (16 * workers))))


_END = object()


def _each_value(chunks, timeout):
    """The values of the chunks' futures in order, each dropped here once
    yielded (the caller alone decides how long a result lives), raising at
    the element whose call raised."""
    while chunks:
        values, errors = chunks.popleft().result(timeout)
        values = collections.deque(values)
        if not errors:  # popped one by one at C speed: nothing here holds a yielded value
            values.append(_END)
            yield from iter(values.popleft, _END)
            continue
        at = 0
        while values:
            value = values.popleft()
            if at in errors:
                _calls.raise_remote(*errors[at])
            at += 1
            yield value
            del value
