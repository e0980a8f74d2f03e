"""Maps that read their input lazily, so that a map over 10**7 items (or an
endless generator) holds a bounded window of it at a time: at most `window`
tasks of one map are submitted and not yet consumed. The first window is
submitted when the map is called (the farm starts at once, as with
concurrent.futures); more are read from the input and submitted as the
caller consumes results. A map whose results are never read therefore runs
only its first window (as SCOOP's lazy map runs nothing), and closing its
iterator cancels the calls it submitted that no worker has yet.

A task is one call, or a chunk of calls (run_chunk) sized as Pool.map
sizes them."""
import collections
import concurrent.futures as cf
import itertools
import math
import threading
import time
import weakref

from . import _calls
from typing import Any, Callable, Iterable, Iterator, Optional, Tuple

CHUNK_MAX = 1000     # calls in one chunk at most, before their cost is known
CHUNK_MAX_MEASURED = 5000  # ... once it is (100,000 trivial calls: 5.0 M/s in chunks of 1000, 8.1 M/s of 5000)
CALLS_AHEAD = 64 * CHUNK_MAX  # calls of one chunked map materialised at once, at most (map_window)
READ_AHEAD = 4 * CHUNK_MAX  # per worker: items of an input without len() read to size its chunks
TASK_SECONDS = 0.05  # a chunk's work once its calls' cost is known: 250 times a task's way through the farm
_END = object()


def chunksize(n, workers, cost=None):
    """Calls in one chunk of a map of n calls on `workers` workers, at most
    CHUNK_MAX, or CHUNK_MAX_MEASURED once the cost is known (so that the
    driver's pickling of one chunk overlaps the workers' evaluation of the
    ones before). cost: the seconds one call of the function took on the
    workers (Costs), None before its first map: then about four chunks per
    worker, as Pool.map sizes them. Once the cost is known, as few chunks
    as keep every worker busy and each chunk under TASK_SECONDS of work,
    as many for each worker: trivial calls go one chunk per worker (a
    200-candidate generation on 2 workers in 2 tasks, not 8: every task
    is a message each way through the broker and a worker, on the same
    cores), costly ones one call per task (balance). docs/performance.md,
    "A generation's overhead". chunksize=1 sends each call alone."""
    if cost is None or n <= 0:
        return max(1, min(CHUNK_MAX, -(-n // (4 * workers))))
    tasks = max(workers, math.ceil(n * cost / TASK_SECONDS))
    tasks = min(n, -(-tasks // workers) * workers)  # as many for each worker: none ends a chunk behind
    return max(1, min(CHUNK_MAX_MEASURED, -(-n // tasks)))


def map_window(window, size):
    """Tasks of `size` calls of one map submitted and not yet consumed, at
    most: the executor's window, fewer for big chunks (CALLS_AHEAD calls),
    at least 2."""
    return max(2, min(window, CALLS_AHEAD // max(1, size)))


class Costs:
    """What one call of each function costs on the workers, from the chunks
    of the maps that ran it (run_chunk's seconds over its calls; each
    chunk's figure weighs half against what was known before). Kept while
    the function lives (a weak key; functions that take none, builtins,
    in a small dict of their own)."""

    def __init__(self):
        self._weak = weakref.WeakKeyDictionary()
        self._strong = {}
        self._lock = threading.Lock()  # the reader of one map against another's

    def _table(self, key):
        try:
            weakref.ref(key)
            return self._weak
        except TypeError:
            return self._strong

    def get(self, fn):
        """Seconds per call of fn, or None when no chunk of it has come back."""
        key = getattr(fn, "__func__", fn)  # a bound method: its function
        try:
            with self._lock:
                return self._table(key).get(key)
        except TypeError:  # unhashable: sized as Pool.map does
            return None

    def add(self, fn, seconds, calls):
        """One chunk of `calls` calls of fn took `seconds` on a worker."""
        if calls <= 0:
            return
        key, per_call = getattr(fn, "__func__", fn), seconds / calls
        try:
            with self._lock:
                table = self._table(key)
                if table is self._strong and key not in table and len(table) >= 256:
                    table.clear()
                known = table.get(key)
                table[key] = per_call if known is None else (known + per_call) / 2
        except TypeError:
            pass


def _length(iterables):
    """How many calls zip(*iterables) makes, from len() alone (nothing is
    consumed), or None when some iterable has no len()."""
    try:
        return min((len(it) for it in iterables), default=0)
    except TypeError:
        return None


def chunks(iterables, size, workers, cost=None):
    """(star, size, iterator of chunks): the calls of zip(*iterables) (the items
    themselves for one iterable: star False) in lists of `size` calls, read
    as the chunks are taken. size None: chunksize() of the calls' number
    and their cost,
    known from len(); an input without len() is read ahead by up to
    READ_AHEAD items per worker first, which tells the number of a shorter
    input and, for a longer one, gives the same CHUNK_MAX as any count."""
    star = len(iterables) != 1
    calls = zip(*iterables) if star else iter(iterables[0])
    if size is None:
        n = _length(iterables)
        if n is None:
            ahead = list(itertools.islice(calls, READ_AHEAD * workers))
            n = len(ahead)
            calls = itertools.chain(ahead, calls)
            del ahead  # the chain alone holds them, until it has passed them
        size = chunksize(n, workers, cost)
    return star, size, iter(lambda: list(itertools.islice(calls, size)), [])


class Feed:
    """The input of one map and its submitted, not yet consumed futures
    (`pending`: a deque in order, or a set), read as the reader asks. The
    executor knows its live feeds (a weak set): its shutdown submits their
    rest (drain) or stops them first."""

    def __init__(self, executor, fn, arg_tuples, ordered, each=False):
        self.executor, self.fn, self.rest, self.each = executor, fn, arg_tuples, each
        self.pending = collections.deque() if ordered else set()
        self.stopped = self.cut = False
        self._lock = threading.Lock()  # the reader's refills against a shutdown's drain
        executor._track(self)

    def take(self, count):
        """Submits the next `count` calls (fewer at the input's end) and adds
        their futures to pending; after a shutdown that stopped this map,
        only notes whether the input had more (cut)."""
        with self._lock:
            if self.rest is None or count <= 0:
                return
            if self.stopped:
                more, self.rest = next(self.rest, _END), None
                self.cut = more is not _END
                return
            self._add(list(itertools.islice(self.rest, count)))

    def check_cut(self):
        """Raises CancelledError when a shutdown cut the input short (once
        what was submitted has been yielded)."""
        if self.cut:
            raise cf.CancelledError("the executor was shut down before this map's input was all read")

    def drain(self):
        """Submits the whole rest of the input now: what concurrent.futures'
        map submits at the call, so that its results can still be read
        after the executor's shutdown (a with block's end)."""
        with self._lock:
            if self.rest is not None and not self.stopped:
                rest, self.rest = list(self.rest), None
                self._add(rest)

    def stop(self):
        """Nothing more is submitted (shutdown with cancel_futures, or at exit)."""
        with self._lock:
            self.stopped = True

    def close(self):
        """The reader is done: cancels what no worker has yet."""
        with self._lock:
            self.rest = None
            for future in self.pending:
                future.cancel()

    def _add(self, batch):
        if not batch:
            self.rest = None
            return
        futures = self.executor._submit_many(self.fn, batch, each=self.each)
        if isinstance(self.pending, set):
            self.pending.update(futures)
        else:
            self.pending.extend(futures)


def in_order(executor, fn, arg_tuples, window, deadline, values, each=False):
    """Yields from values(future, seconds left) for the future of each
    fn(*args) of arg_tuples, in order; `window` (>= 2) futures are submitted
    now, and more as they are consumed: at most `window` are submitted and
    not yet consumed. deadline: time.monotonic() by which every value must be
    there (TimeoutError), or None. each: every call sent as soon as it is
    pickled (a map's chunks: Executor._submit_many)."""
    feed = Feed(executor, fn, arg_tuples, ordered=True, each=each)
    feed.take(window)
    return Results.of(_in_order(feed, window, deadline, values))


class Results(itertools.chain):
    """What a map returns: the values of its tasks' iterables one after the
    other, chained at C speed (a Python frame is resumed per task, not per
    value), and close() as a generator has it: the map stops, what no
    worker has yet is not run."""

    @classmethod
    def of(cls, source):
        results = cls.from_iterable(source)
        results._source = source
        return results

    def close(self):
        self._source.close()


def _in_order(feed, window, deadline, values):
    pending = feed.pending
    try:
        while True:
            if len(pending) <= window // 2 + 1:  # refilled by half windows: one hand-off for many tasks
                feed.take(window - len(pending))
            if not pending:  # the input is all read (or cut)
                break
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            yield values(pending.popleft(), left)  # values() alone holds the future
        feed.check_cut()
    finally:  # closed early, or raised: what no worker has yet is not run
        feed.close()


def call_value(future, left):
    """The value of one call's future, as a one-item iterable."""
    return (future.result(left),)


def chunk_values(future, left, measured=None):
    """The values of one chunk's future (run_chunk's (values, errors,
    seconds)) as an iterator that drops each once yielded (the caller alone
    decides how long a result lives), raising at the element whose call
    raised. measured(seconds, calls), when given, learns what the chunk
    cost. Without errors a C iterator over a deque: _in_order's frame is
    the only Python one a value passes through (a generator here cost a
    third of the driver's time on 100,000 trivial calls)."""
    values, errors, seconds = future.result(left)
    future = None  # the chunk's list dies with the deque
    if measured is not None:
        measured(seconds, len(values))
    values = collections.deque(values)
    if not errors:  # popped one by one at C speed: nothing here holds a yielded value
        values.append(_END)
        return iter(values.popleft, _END)
    return _values_raising(values, errors)


def _values_raising(values, errors):
    """chunk_values of a chunk where some call raised."""
    at = 0
    while values:
        value = values.popleft()
        if at in errors:
            _calls.raise_remote(*errors[at])
        at += 1
        yield value
        del value


def as_completed(executor: Any, fn: Callable[..., Any], arg_tuples: Iterable[Tuple[Any, ...]], window: int,
                 deadline: Optional[float], wait: Callable[..., Any]) -> Iterator[Any]:
    """Yields the value of each fn(*args) of arg_tuples as it completes;
    `window` futures submitted now, more as values are consumed (at most
    `window` submitted and not yet consumed). wait: futures.wait (which,
    inside a task, runs our own calls while it waits)."""
    feed = Feed(executor, fn, arg_tuples, ordered=False)
    feed.take(window)
    return _as_completed(feed, window, deadline, wait)


def _as_completed(feed, window, deadline, wait):
    pending = feed.pending
    try:
        while True:
            feed.take(window - len(pending))  # the calls of the values yielded before
            if not pending:  # the input is all read (or cut)
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise cf.TimeoutError("%d futures unfinished" % len(pending))
            done = wait(list(pending), left, cf.FIRST_COMPLETED).done
            if not done:
                raise cf.TimeoutError("%d futures unfinished" % len(pending))
            pending.difference_update(done)
            feed.take(window - len(pending) - len(done))  # the farm works while these are read
            done = list(done)
            while done:
                yield done.pop().result()
        feed.check_cut()
    finally:
        feed.close()
