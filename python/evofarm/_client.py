"""ctypes binding of libevofarm's client API (include/evofarm/client.h).
The library is found through EVO_FARM_LIBRARY (set by evo-farm for its
drivers), else the system's linker path."""
import ctypes
import ctypes.util
import os
import subprocess

from . import _embedded
from ._errors import FarmError

MAX_OBJECTIVES = 16
WITHDRAWN = object()  # wait()'s third item for a task taken back before any worker had it


class Result(ctypes.Structure):
    _fields_ = [
        ("tag", ctypes.c_uint64),
        ("ok", ctypes.c_int),
        ("n", ctypes.c_uint),
        ("objectives", ctypes.c_double * MAX_OBJECTIVES),
        ("error", ctypes.c_char_p),
        ("payload", ctypes.c_void_p),
        ("payload_size", ctypes.c_size_t),
    ]


def _asked_of_evo_farm():
    """Where the evo-farm command on hand keeps its libevofarm (for a copy
    of this package installed into a venv, away from both)."""
    try:
        p = subprocess.run([_embedded._command(), "__library"], capture_output=True, text=True, timeout=10)
    except (FarmError, OSError, subprocess.SubprocessError):
        return None
    path = p.stdout.strip()
    return path if p.returncode == 0 and os.path.exists(path) else None


def _load():
    beside = _embedded.beside_package("lib/libevofarm.so.1", "lib/libevofarm.so")
    path = os.environ.get("EVO_FARM_LIBRARY") or next((p for p in beside if os.path.exists(p)), None) \
        or ctypes.util.find_library("evofarm") or _asked_of_evo_farm()
    if not path:
        raise FarmError("libevofarm not found (install evo-farm, or set EVO_FARM_LIBRARY to its libevofarm.so)")
    lib = ctypes.CDLL(path)
    lib.evo_client_open.restype = ctypes.c_void_p
    lib.evo_client_open.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.evo_client_submit_payloads.restype = ctypes.c_int
    lib.evo_client_submit_payloads.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                               ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t,
                                               ctypes.POINTER(ctypes.c_uint64)]
    lib.evo_client_wait.restype = ctypes.c_int
    lib.evo_client_wait.argtypes = [ctypes.c_void_p, ctypes.POINTER(Result), ctypes.c_int]
    lib.evo_client_outstanding.restype = ctypes.c_size_t
    lib.evo_client_outstanding.argtypes = [ctypes.c_void_p]
    lib.evo_client_last_error.restype = ctypes.c_char_p
    lib.evo_client_last_error.argtypes = [ctypes.c_void_p]
    lib.evo_client_withdraw.restype = ctypes.c_int
    lib.evo_client_withdraw.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
    lib.evo_client_share.restype = ctypes.c_int
    lib.evo_client_share.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.evo_client_wake.restype = None
    lib.evo_client_wake.argtypes = [ctypes.c_void_p]
    lib.evo_client_close.restype = None
    lib.evo_client_close.argtypes = [ctypes.c_void_p]
    return lib


class Client:
    """One connection to the farm's broker; used by one thread at a time."""

    def __init__(self):
        self.lib = _load()
        err = ctypes.create_string_buffer(512)
        self.handle = self.lib.evo_client_open(err, len(err))
        if not self.handle:
            raise FarmError("cannot reach the farm: " + err.value.decode(errors="replace"))
        self.result = Result()

    def _error(self):
        return self.lib.evo_client_last_error(self.handle).decode(errors="replace")

    def submit(self, payloads):
        """Queues a list of bytes; returns the first tag (consecutive)."""
        n = len(payloads)
        data = (ctypes.c_char_p * n)(*payloads)
        sizes = (ctypes.c_size_t * n)(*[len(p) for p in payloads])
        first = ctypes.c_uint64()
        if self.lib.evo_client_submit_payloads(self.handle, data, sizes, n, ctypes.byref(first)) < 0:
            raise FarmError(self._error())
        return first.value

    def withdraw(self, tags):
        """Asks the broker to take back those of these tags no worker has
        yet; each comes back from wait() as (tag, None, WITHDRAWN)."""
        n = len(tags)
        if self.lib.evo_client_withdraw(self.handle, (ctypes.c_uint64 * n)(*tags), n) < 0:
            raise FarmError(self._error())

    def share(self, name, data):
        """Sends a named constant (bytes) to every worker, once each."""
        if self.lib.evo_client_share(self.handle, name.encode(), data, len(data)) < 0:
            raise FarmError(self._error())

    def wake(self):
        """Makes a wait() blocked in another thread return None at once
        (the one call another thread may make)."""
        handle = self.handle
        if handle:
            self.lib.evo_client_wake(handle)

    def wait(self, timeout_ms):
        """(tag, answer bytes, None) or (tag, None, error text) of the next
        result, (tag, None, WITHDRAWN) for a withdrawn one, or None after
        timeout_ms (or a wake())."""
        rc = self.lib.evo_client_wait(self.handle, ctypes.byref(self.result), timeout_ms)
        if rc < 0:
            raise FarmError(self._error())
        if rc == 0:
            return None
        r = self.result
        if r.ok == -1:  # EVO_CLIENT_WITHDRAWN
            return r.tag, None, WITHDRAWN
        if r.ok:
            return r.tag, ctypes.string_at(r.payload, r.payload_size) if r.payload_size else b"", None
        return r.tag, None, (r.error or b"failed").decode(errors="replace")

    def outstanding(self):
        return self.lib.evo_client_outstanding(self.handle)

    def close(self):
        if self.handle:
            self.lib.evo_client_close(self.handle)
            self.handle = None
