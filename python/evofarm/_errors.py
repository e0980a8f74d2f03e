"""Exceptions of evofarm."""


class FarmError(RuntimeError):
    """The farm could not evaluate a call: it cannot be sent (not picklable),
    the farm is not reachable, or the call failed on every attempt (its
    worker crashed, hung past farm.timeout, ...). A Python exception raised
    by the function itself is re-raised as is, not as a FarmError."""


class RemoteTraceback(Exception):
    """Attached as ``__cause__`` to an exception re-raised from a worker: its
    text is the traceback on the worker (as concurrent.futures.process)."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb
