"""Exceptions of evofarm."""
import concurrent.futures as cf


class FarmError(RuntimeError):
    """The farm could not evaluate a call: it cannot be sent (not picklable),
    the farm is not reachable, or the call failed on every attempt (its
    worker crashed, hung past farm.timeout, ...). A Python exception raised
    by the function itself is re-raised as is, not as a FarmError."""


class FarmBroken(FarmError, cf.BrokenExecutor):
    """The farm itself went away (its broker ended, the connection to it
    closed): every call not yet answered fails with this, and the executor
    takes no new call, as concurrent.futures' BrokenExecutor (the base of
    BrokenProcessPool) says of a pool that cannot be used any more."""

    @classmethod
    def of(cls, error: BaseException) -> "FarmBroken":
        """`error`, the reason the farm went away, as a FarmBroken."""
        return error if isinstance(error, cls) else cls(str(error))


class RemoteTraceback(Exception):
    """Attached as ``__cause__`` to an exception re-raised from a worker: its
    text is the traceback on the worker (as concurrent.futures.process)."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb
