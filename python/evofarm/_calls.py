"""How a call travels: pickled (functions by reference) with the path of the
driver's main script, so that functions defined there can be found on the
workers the way multiprocessing's spawn start method finds them."""
import os
import pickle
import sys

from ._errors import FarmError, RemoteTraceback

PROTOCOL = pickle.HIGHEST_PROTOCOL


def main_path():
    """The driver's main script, or None (interactive, python -c)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path else None


def encode(fn, args, kwargs, main=None):
    """The payload of one call: u16 length + the main script's path (empty
    when there is none), then the pickled (fn, args, kwargs), so a worker
    can import the script before it unpickles the call. Raises FarmError
    naming what cannot be sent."""
    head = (main or "").encode()
    try:
        return b"".join((len(head).to_bytes(2, "little"), head, pickle.dumps((fn, args, kwargs), protocol=PROTOCOL)))
    except Exception as e:  # PicklingError, AttributeError, TypeError
        if fn is run_chunk and args:  # futures.map: name the user's function
            fn = args[0]
        what = getattr(fn, "__qualname__", repr(fn))
        try:
            pickle.dumps(fn, protocol=PROTOCOL)
        except Exception:
            raise FarmError(
                "cannot send %s to the workers: %s (functions travel by name: define it with def at module "
                "level, not as a lambda, a closure or a nested function)" % (what, e)) from None
        raise FarmError("cannot send the arguments of a call to %s to the workers: %s" % (what, e)) from None


def decode_answer(data):
    """The value of an answer, or raises what the function raised."""
    answer = pickle.loads(data)
    if answer[0] == "ok":
        return answer[1]
    raise_remote(answer[1], answer[2])


def run_chunk(fn, chunk, star=True):
    """Runs fn over a chunk on a worker, each call once: fn(*args) for the
    argument tuples of chunk, or fn(item) with star=False. Returns (values,
    errors): errors maps the index of a call that raised to (exception or
    None, traceback text), so the driver raises at the very element that
    failed."""
    values, errors, at = [], {}, 0
    while at < len(chunk):
        try:
            if star:
                for args in chunk[at:] if at else chunk:
                    values.append(fn(*args))
            else:
                for item in chunk[at:] if at else chunk:
                    values.append(fn(item))
        except Exception as exc:
            errors[len(values)] = _portable(exc)
            values.append(None)
        at = len(values)
    return values, errors


def _portable(exc):
    """(the exception if it can be pickled, else None; traceback text)."""
    import traceback
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        pickle.dumps(exc, protocol=PROTOCOL)
    except Exception:
        exc = None
    return exc, tb


def raise_remote(exc, tb):
    """Raises what a worker raised, with its traceback as the cause."""
    if exc is None:
        exc = FarmError("the function raised an exception that cannot be sent back:\n" + tb)
    exc.__cause__ = RemoteTraceback(tb)
    raise exc
