"""evofarm.Executor: a concurrent.futures.Executor whose calls run on the
farm's workers. One background thread owns the farm connection: it sends
queued calls (at most a window of them in the farm at once, so that
cancelling the rest really stops them) and resolves futures as answers
come back, in completion order.

Inside a task (a call that itself submits calls), waiting on a future runs
this process's own calls that no worker has started (taken back from the
broker) instead of blocking the worker: futures nest to any depth without
deadlock (docs/python.md, "Futures inside tasks")."""
import collections
import concurrent.futures as cf
import os
import select
import threading
import time
import uuid
import weakref
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, TypeVar

from . import _calls, _embedded, _trace, _twin, _window
from ._client import WITHDRAWN, Client
from ._errors import FarmBroken, FarmError

T = TypeVar("T")


def _evaluator_module():
    """evofarm._evaluator, imported only when used (so that `python3 -m
    evofarm._evaluator` finds it not yet imported)."""
    from . import _evaluator
    return _evaluator


_ASK_AGAIN = 0.05  # s between two requests to take back calls while waiting
_CLIENT_WINDOW = 65536  # libevofarm's default send window (tasks outstanding per connection)


def _client_window():
    """The C client's send window: EVO_FARM_WINDOW, else its default."""
    try:
        return max(1, int(os.environ.get("EVO_FARM_WINDOW") or _CLIENT_WINDOW))
    except ValueError:
        return _CLIENT_WINDOW


class _Future(cf.Future):
    """A Future whose result() and exception(), called inside a task, help
    first: they run the executor's own calls that no worker has started."""

    def __init__(self, executor):
        super().__init__()
        self._helper = executor if executor._nested else None
        self._owner = _evaluator_module().current_call() if self._helper is not None else 0

    def result(self, timeout=None):
        if self._helper is not None and not self.done():
            self._helper._help([self], 1, timeout)
        value = super().result(timeout)
        if _trace.on:
            _trace.point("py.result")
        return value

    def exception(self, timeout=None):
        if self._helper is not None and not self.done():
            self._helper._help([self], 1, timeout)
        return super().exception(timeout)


class Executor(cf.Executor):
    """Runs fn(*args, **kwargs) on the farm's workers.

    Inside a farm (evo-farm run, a Slurm step) that farm; outside any, a
    local farm started for this process with max_workers workers (default
    EVO_FARM_WORKERS, else one per core) and stopped at exit.
    initializer(*initargs) runs once in each worker process before its
    first call of this executor (also in a process that joins or replaces
    one later), as with ProcessPoolExecutor, whose parameters it takes in
    its order (mp_context is ignored; max_tasks_per_child is refused).
    window: calls in the farm at once (default: 4 per worker, at least 64,
    at most the C client's window, EVO_FARM_WINDOW, default 65,536); the
    rest wait in this process, where cancel() stops them for good. One map
    also reads its input by at most a window of tasks ahead."""

    def __init__(self, max_workers: Optional[int] = None, mp_context: Any = None,
                 initializer: Optional[Callable[..., object]] = None, initargs: Iterable[Any] = (), *,
                 max_tasks_per_child: Optional[int] = None, window: Optional[int] = None) -> None:
        # ProcessPoolExecutor's parameters, in its order: mp_context is taken
        # and not used (the farm starts its workers), so that
        # Executor(4, None, init) is what ProcessPoolExecutor(4, None, init) is
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if max_tasks_per_child is not None:
            raise ValueError("max_tasks_per_child is not supported: a farm's worker serves until the farm ends "
                             "(an evaluator that dies is started again)")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        # every call carries the initializer (by name), so that a worker
        # process that joins or replaces another runs it before its first call
        self._init = (uuid.uuid4().hex, initializer, tuple(initargs)) if initializer else None
        _embedded.ensure(max_workers)
        self._workers = max(1, int(os.environ.get("EVO_FARM_WORKERS", "0") or 0))
        # below the C client's own send window, so that its submit never blocks
        self._window = min(window or max(64, 4 * self._workers), _client_window())
        self._main = _calls.main_path()
        self._client = Client()
        self._lock = threading.Condition()
        self._io = threading.Lock()        # whoever uses the connection (Client is single-threaded)
        self._queue = collections.deque()  # (future, payload) not yet sent; (None, (name, bytes)) a constant
        self._sent = {}                    # tag -> future
        self._nested = _evaluator_module().serving()   # this process is a worker's evaluator: calls nest
        self._payloads = {}                # nested: tag -> payload of a sent call (to run it here if taken back)
        self._returned = {}                # nested: future -> payload of a call taken back from the broker
        self._withdraw = []                # nested: tags to ask the broker back
        self._wake_r, self._wake_w = os.pipe() if self._nested else (None, None)  # nested: "something moved"
        if self._nested:
            os.set_blocking(self._wake_w, False)
            os.set_blocking(self._wake_r, False)
        self._shutdown = False
        self._failure = None
        self._maps = weakref.WeakSet()     # the inputs of maps still being read (_window.Feed)
        # seconds per call of the functions mapped, which size their chunks;
        # None when the farm keeps a journal: a rerun must send the same tasks
        self._costs = None if os.environ.get("EVO_FARM_JOURNALED") else _window.Costs()
        self._thread = threading.Thread(target=self._run, name="evofarm-dispatch", daemon=True)
        self._thread.start()
        if not self._nested and not _embedded.started():  # the workers started with their task's argv
            _twin.share(self)

    # -- the dispatch thread -------------------------------------------------
    def _run(self):
        try:
            while True:
                with self._lock:
                    while not self._queue and not self._sent and not self._shutdown:
                        self._lock.wait()
                    if self._shutdown and not self._queue and not self._sent:
                        return
                    batch, share = [], None
                    while self._queue and len(self._sent) + len(batch) < self._window:
                        if self._queue[0][0] is None:  # a constant: after the calls before it
                            if not batch:
                                share = self._queue.popleft()[1]
                            break
                        future, payload = self._queue.popleft()
                        if future.set_running_or_notify_cancel():
                            batch.append((future, payload))
                    withdraw, self._withdraw = self._withdraw, []
                with self._io:
                    if share is not None:
                        self._client.share(*share)
                        share = None
                    if withdraw:
                        self._client.withdraw(withdraw)
                    if batch:
                        self._send(batch)
                        batch = future = payload = None  # only _sent holds them now (results die with their reader)
                    if self._sent:
                        self._collect()
        except BaseException as e:  # the farm went away: fail everything
            self._fail_all(FarmBroken.of(e))

    def _send(self, batch):
        """Submits (future, payload) pairs, already running; with _io held."""
        if _trace.on:
            _trace.point("py.send")
        first = self._client.submit([p for _, p in batch])
        with self._lock:
            for i, (future, payload) in enumerate(batch):
                self._sent[first + i] = future
                if self._nested:
                    self._payloads[first + i] = payload
            self._lock.notify()  # the dispatch thread collects their answers

    def _collect(self):
        got = self._client.wait(20)
        while got is not None:
            if _trace.on:
                _trace.point("py.got")
            tag, data, error = got
            with self._lock:
                future = self._sent.pop(tag, None)
                payload = self._payloads.pop(tag, None)
                if error is WITHDRAWN and future is not None:  # taken back: the waiting task runs it
                    self._returned[future] = payload
                    future = None
                    self._notify()
            if future is not None:
                if error is not None:
                    future.set_exception(FarmError(error))
                else:
                    try:
                        future.set_result(_calls.decode_answer(data))
                    except BaseException as e:
                        future.set_exception(e)
                if _trace.on:
                    _trace.point("py.resolved")
            if self._nested:
                self._notify()  # a helping task may wait on this one
            future = data = payload = None  # this thread keeps no result alive
            got = self._client.wait(0) if self._sent else None

    def _fail_all(self, error):
        with self._lock:
            self._failure = error
            pending = list(self._sent.values()) + [f for f, _ in self._queue if f is not None] + list(self._returned)
            self._sent.clear()
            self._queue.clear()
            self._returned.clear()
        if self._nested:
            self._notify()
        for future in pending:
            if not future.done() and (future.running() or future.set_running_or_notify_cancel()):
                future.set_exception(error)

    # -- the Executor interface ----------------------------------------------
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> "cf.Future[T]":
        return self._submit_many(fn, [args], kwargs)[0]

    def _submit_many(self, fn: Callable[..., T], arg_tuples: Iterable[Tuple[Any, ...]],
                     kwargs: Optional[Dict[str, Any]] = None, each: bool = False) -> List["cf.Future[T]"]:
        """submit(fn, *args, **kwargs) for each args of arg_tuples; a list
        of futures. Pickled, then queued at once (one wake-up of the
        dispatch thread); with each=True (a map's chunks, whose pickling
        may cost as much as their evaluation) each is sent as soon as it is
        pickled, so that the first workers start while this thread pickles
        the rest."""
        kwargs = kwargs or {}
        if each:
            return self._stream(fn, arg_tuples, kwargs)
        return self._enqueue([self._encode(fn, args, kwargs) for args in arg_tuples])

    def _stream(self, fn: Callable[..., Any], arg_tuples: Iterable[Tuple[Any, ...]],
                kwargs: Dict[str, Any]) -> List["cf.Future[Any]"]:
        """_submit_many(each=True): when the connection is free, this thread
        keeps it until the last call is sent, each as soon as it is pickled
        (the dispatch thread, which would only take them over, collects the
        answers after); else, or beyond the window, they are queued."""
        futures: List["cf.Future[Any]"] = []
        held = False
        try:
            for args in arg_tuples:
                payload = self._encode(fn, args, kwargs)
                if not held:
                    with self._lock:
                        held = not self._queue and not self._shutdown and self._failure is None and \
                            self._io.acquire(blocking=False)
                if not held or len(self._sent) >= self._window:
                    futures += self._enqueue([payload])
                    continue
                if _trace.on:
                    _trace.point("py.submit")
                future = _Future(self)
                futures.append(future)
                if not self._send_now([future], [payload]):
                    held = False
                    self._io.release()  # the next call raises the failure (_enqueue)
        finally:
            if held:
                self._io.release()
        return futures

    def _encode(self, fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> bytes:
        """One call's payload (_calls.encode), inside the initializer's
        wrapper when the executor has one."""
        if self._init is None:
            return _calls.encode(fn, args, kwargs, self._main)
        return _calls.encode(_calls.run_initialized, (*self._init, fn, args, kwargs), {}, self._main)

    def _enqueue(self, payloads: List[bytes]) -> List["cf.Future[Any]"]:
        """Futures for these payloads, sent from this thread when the
        connection is free, else queued for the dispatch thread."""
        if _trace.on:
            _trace.point("py.submit")
        futures = [_Future(self) for _ in payloads]
        with self._lock:
            self._refuse_if_closed("schedule new calls")
            # Sent from this thread when nothing waits before them and the
            # dispatch thread is not using the connection (it is idle, or
            # between two waits): no thread hand-off on the way out.
            direct = not self._queue and len(self._sent) + len(futures) <= self._window and \
                self._io.acquire(blocking=False)
            if not direct:
                self._queue.extend(zip(futures, payloads))
                self._lock.notify()
                busy = bool(self._sent)
        if direct:
            try:
                self._send_now(futures, payloads)
            finally:
                self._io.release()
        elif busy:  # the dispatch thread waits for answers: it sends these now, not after its wait
            self._client.wake()
        return futures

    def _refuse_if_closed(self, what: str) -> None:
        """Raises if no new work may come, with _lock held: after shutdown,
        or once the farm has gone (a new FarmBroken each time, as
        ProcessPoolExecutor raises a new BrokenProcessPool)."""
        if self._shutdown:
            raise RuntimeError("cannot %s after shutdown" % what)
        if self._failure is not None:
            raise FarmBroken(*self._failure.args)

    def _send_now(self, futures: List["cf.Future[Any]"], payloads: List[bytes]) -> bool:
        """Sends these from this thread, _io held. Whether they went: when
        the farm has gone away, they and everything else fail with it."""
        try:
            for future in futures:
                future.set_running_or_notify_cancel()
            self._send(list(zip(futures, payloads)))
            return True
        except BaseException as e:
            error = FarmBroken.of(e)
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            self._fail_all(error)
            return False

    def _share(self, name: str, data: bytes) -> None:
        """Sends constant `name` (bytes) to every worker, after the calls
        submitted before it and before those submitted after."""
        with self._lock:
            self._refuse_if_closed("share constants")
            self._queue.append((None, (name, data)))
            self._lock.notify()
        self._client.wake()

    # -- inside a task: wait by running our own unstarted calls ---------------
    def _help(self, futures: List["cf.Future[Any]"], count: int, timeout: Optional[float] = None) -> None:
        """Returns once `count` of `futures` are done (or after timeout s).
        Meanwhile runs, in this thread, this executor's calls that no worker
        has started: those not sent yet, and those the broker gives back
        when asked (asked again every _ASK_AGAIN s while nothing else
        moves). The worker is told while the task only waits, so it gives
        back what it queued behind it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        asked = 0.0
        evaluator = _evaluator_module()
        watched = [self._wake_r] + ([evaluator.input_fd()] if evaluator.input_fd() is not None else [])
        try:
            while sum(f.done() for f in futures) < count:
                job = self._take_back(futures, evaluator.current_call())
                if job is not None:
                    evaluator.set_blocked(False)
                    self._run_here(*job)
                    continue
                if evaluator.lend():  # a call the worker queued behind this one
                    continue
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return
                evaluator.set_blocked(True)
                with self._lock:
                    ask = now - asked >= _ASK_AGAIN and self._sent
                    if ask:
                        self._withdraw.extend(self._sent)
                        asked = now
                    idle = not self._returned and sum(f.done() for f in futures) < count
                if ask:
                    self._client.wake()
                if idle:  # until an answer, a call taken back, a call lent, or time to ask again
                    left = _ASK_AGAIN if deadline is None else min(_ASK_AGAIN, deadline - now)
                    if select.select(watched, [], [], max(left, 0))[0]:
                        self._drain_wakes()
        finally:
            evaluator.set_blocked(False)

    def _notify(self):
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full: the helper will look anyway

    def _drain_wakes(self):
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _take_back(self, futures, owner):
        """(future, payload) of a call no worker runs that the waiting call
        `owner` submitted: the awaited ones first; or None. (Calls of the
        calls below it on this stack wait for those: taking them here too
        would only deepen the stack.)"""
        with self._lock:
            for f in futures:
                payload = self._returned.pop(f, None)
                if payload is not None:
                    return f, payload
            for f in self._returned:
                if f._owner == owner:
                    return f, self._returned.pop(f)
            for i, (future, payload) in enumerate(self._queue):
                if future is None:
                    break  # a constant: the calls after it need it first
                if future._owner == owner or future in futures:
                    del self._queue[i]
                    if future.set_running_or_notify_cancel():
                        return future, payload
                    return None
        return None

    def _run_here(self, future, payload):
        answer = _evaluator_module().call(payload)
        try:
            future.set_result(_calls.decode_answer(answer))
        except BaseException as e:
            future.set_exception(e)

    def map(self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1) -> Iterator[T]:
        """Like ProcessPoolExecutor.map: results in order, lazily;
        chunksize > 1 sends that many calls as one task. The input is read
        as results are consumed: at most the window's calls (or chunks) of
        this map are in the farm or waiting for their reader at once
        (evofarm._window); the timeout counts from this call."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1")
        if chunksize == 1:
            deadline = None if timeout is None else time.monotonic() + timeout
            return _window.in_order(self, fn, zip(*iterables), self._map_window(), deadline, _window.call_value)
        return self._map_chunks(fn, iterables, chunksize, timeout)

    def _map_chunks(self, fn: Callable[..., T], iterables: Tuple[Iterable[Any], ...], chunksize: Optional[int] = None,
                    timeout: Optional[float] = None) -> Iterator[T]:
        """fn over zip(*iterables) in tasks of chunksize calls (None: sized
        by _window.chunksize, from what fn's calls cost in the maps before,
        as Pool.map does before any); the results in order, lazily,
        each dropped here once yielded. The input is read as the results
        are consumed: at most map_window() chunks of this map are in the
        farm or waiting for their reader at once. A call that raised
        re-raises at its own element; the timeout counts from this call."""
        if _trace.on:
            _trace.point("py.map")
        deadline = None if timeout is None else time.monotonic() + timeout
        costs = self._costs
        star, size, chunks = _window.chunks(iterables, chunksize, self._workers, costs.get(fn) if costs else None)
        tasks = ((fn, chunk, star) for chunk in chunks)

        def values(future, left):
            return _window.chunk_values(future, left, costs and (lambda seconds, calls: costs.add(fn, seconds, calls)))
        window = self._map_window() if chunksize else _window.map_window(self._map_window(), size)
        return _window.in_order(self, _calls.run_chunk, tasks, window, deadline, values, each=True)

    def _map_window(self) -> int:
        """Tasks of one map submitted and not yet consumed, at most: the
        executor's window (at least 2)."""
        return max(2, self._window)

    def _track(self, feed: Any) -> None:
        """Remembers a map's input (_window.Feed) while the map lives."""
        self._maps.add(feed)

    def _stop_maps(self) -> None:
        """The maps still being read submit nothing more (at exit: nobody
        reads them)."""
        for feed in list(self._maps):
            feed.stop()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """As concurrent.futures': maps still being read first submit the
        rest of their input (what its map submits at the call), so that
        their results can be read after a with block; with cancel_futures
        they submit nothing more and, read on, raise CancelledError."""
        for feed in list(self._maps):
            try:
                if cancel_futures:
                    feed.stop()
                else:
                    feed.drain()
            except Exception:  # the farm failed: their readers see it
                feed.stop()
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                for future, _ in self._queue:
                    if future is not None:
                        future.cancel()
                self._queue = collections.deque(e for e in self._queue if e[0] is None)
            self._lock.notify()
        if wait:
            self._thread.join()
            self._client.close()
