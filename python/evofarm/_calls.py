"""How a call travels: pickled (functions by reference) with the path of the
driver's main script, so that functions defined there can be found on the
workers the way multiprocessing's spawn start method finds them."""
import copyreg
import io
import itertools
import os
import pickle
import sys
import time
from typing import Optional

from ._errors import FarmError, RemoteTraceback

PROTOCOL = pickle.HIGHEST_PROTOCOL


def main_path() -> Optional[str]:
    """The driver's main script, or None (interactive, python -c)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path else None


_top_level = {}


def _main_defines(main, name):
    """Whether the main script binds `name` at its top level (def, class,
    import or assignment outside any block), i.e. whether a worker that
    imports it as __mp_main__ finds it. Read once per script."""
    names = _top_level.get(main)
    if names is None:
        import ast
        names = set()
        try:
            with open(main, encoding="utf-8") as f:
                tree = ast.parse(f.read(), main)
        except (OSError, SyntaxError, ValueError):
            return True  # cannot tell: pickle by name, the worker explains
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        _top_level[main] = names
    return name in names


_cloud = []


def _cloudpickle():
    """cloudpickle, or None when it is not installed (looked up once)."""
    if not _cloud:
        try:
            import cloudpickle
        except ImportError:
            cloudpickle = None
        _cloud.append(cloudpickle)
    return _cloud[0]


def _needs_value(fn, main):
    """A function of the main script the workers cannot find by name (it
    was defined under the main guard, or interactively)."""
    if getattr(fn, "__module__", None) != "__main__":
        return False
    qualname = getattr(fn, "__qualname__", "")
    return main is None or "<locals>" in qualname or not _main_defines(main, qualname.split(".")[0])


DIGEST = 32  # bytes of a script's SHA-256
_digests = {}


def script_digest(path: str) -> bytes:
    """The SHA-256 of the script at path, read once: what a worker checks
    the file it imports against (another node's file at that path, or one
    changed since, is not the driver's)."""
    digest = _digests.get(path)
    if digest is None:
        import hashlib
        try:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).digest()
        except OSError:
            digest = bytes(DIGEST)  # unreadable here: a worker that finds it refuses it
        _digests[path] = digest
    return digest


def encode(fn, args, kwargs, main=None):
    """The payload of one call: u16 length + the main script's path (empty
    when there is none) and, with a path, the script's SHA-256
    (script_digest), then the pickled (fn, args, kwargs), so a worker can
    import the script, the driver's and no other, before it unpickles the
    call. Functions travel by name; what cannot (a lambda, a closure, a
    function defined under the main guard) travels by value through
    cloudpickle when it is installed. Raises FarmError naming what cannot be
    sent."""
    head = (main or "").encode()
    if main:
        head_digest = script_digest(main)
    else:
        head_digest = b""
    user_fn = _user_function(fn, args)
    call = (fn, args, kwargs)
    cloud = _cloudpickle()
    try:
        if cloud is not None and _needs_value(user_fn, main):
            body = cloud.dumps(call, protocol=PROTOCOL)
        else:
            body = _pickle(call)
        return b"".join((len(head).to_bytes(2, "little"), head, head_digest, body))
    except Exception as e:  # PicklingError, AttributeError, TypeError
        what = getattr(user_fn, "__qualname__", repr(user_fn))
        try:
            (cloud or pickle).dumps(user_fn, protocol=PROTOCOL)
        except Exception:
            hint = ("define it with def at module level" if cloud is not None else
                    "define it with def at module level, not as a lambda, a closure or a nested function, or "
                    "install python3-cloudpickle, which sends those")
            raise FarmError("cannot send %s to the workers: %s (functions travel by name: %s)" % (what, e, hint)) \
                from None
        raise FarmError("cannot send the arguments of a call to %s to the workers: %s" % (what, e)) from None


# numpy's scalar types whose value item() gives exactly, as a Python bool,
# int, float or complex, and whose constructor takes back (not longdouble,
# datetime64, str_ and the like: those keep numpy's own reduction)
_NUMPY_SCALARS = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16",
                  "uint8", "bool_", "complex128", "complex64")
_tables = []


def _scalar(x):
    """A numpy scalar reduced to its type and its value as a Python number:
    numpy's own reduction of one (a call into numpy.core per scalar, its
    dtype and raw bytes) takes 3 times as long to pickle, a third longer to
    unpickle, and a DEAP individual of numpy.float64 is made of them."""
    return type(x), (x.item(),)


def _dispatch_table():
    """copyreg's table with _scalar for numpy's scalars, once numpy is
    imported (never imported here); None before."""
    if not _tables:
        numpy = sys.modules.get("numpy")
        if numpy is None:
            return None
        table = copyreg.dispatch_table.copy()
        for name in _NUMPY_SCALARS:
            cls = getattr(numpy, name, None)
            if isinstance(cls, type):
                table[cls] = _scalar
        _tables.append(table)
    return _tables[0]


def dumps_fast(value: object) -> bytes:
    """pickle.dumps(value) at the highest protocol, numpy's scalars as their
    type and Python value (_scalar): the same objects come out of
    pickle.loads, of the same types, equal bit for bit."""
    table = _dispatch_table()
    if table is None:
        return pickle.dumps(value, protocol=PROTOCOL)
    out = io.BytesIO()
    pickler = pickle.Pickler(out, PROTOCOL)
    pickler.dispatch_table = table
    pickler.dump(value)
    return out.getvalue()


def _pickle(value):
    """value pickled by reference (dumps_fast), else by value through
    cloudpickle when it is installed; raises what pickling raised when
    neither can."""
    try:
        return dumps_fast(value)
    except Exception:
        cloud = _cloudpickle()
        if cloud is None:
            raise
        return cloud.dumps(value, protocol=PROTOCOL)


def dumps(value: object, what: str) -> bytes:
    """A value as a call's arguments travel (_pickle); FarmError naming
    `what` when it cannot be sent."""
    try:
        return _pickle(value)
    except Exception as e:
        raise FarmError("cannot send %s to the workers: %s" % (what, e)) from None


def _user_function(fn, args):
    """The user's function inside the wrappers a call may travel in
    (run_initialized for an Executor's initializer, run_chunk for map)."""
    if fn is run_initialized and len(args) == 6:
        fn, args = args[3], args[4]
    if fn is run_chunk and args:
        fn = args[0]
    return fn


_initialized = set()  # on a worker: the executors whose initializer ran in this process


def run_initialized(token, initializer, initargs, fn, args, kwargs):
    """On a worker: runs the initializer of executor `token` once in this
    process (the first of its calls to arrive here; again in a process that
    replaces one), then fn(*args, **kwargs). An initializer that raises
    makes this call raise it, and the next call tries it again."""
    if token not in _initialized:
        initializer(*initargs)
        _initialized.add(token)
    return fn(*args, **kwargs)


def decode_answer(data):
    """The value of an answer, or raises what the function raised. An
    object of a class of the main script comes back as __mp_main__.NAME
    (the workers import the script under that name, as multiprocessing's
    spawn does): here that is the driver's own __main__."""
    if "__mp_main__" not in sys.modules and "__main__" in sys.modules:
        sys.modules["__mp_main__"] = sys.modules["__main__"]
    answer = pickle.loads(data)
    if answer[0] == "ok":
        return answer[1]
    raise_remote(answer[1], answer[2])


def run_chunk(fn, chunk, star=True):
    """Runs fn over a chunk on a worker, each call once: fn(*args) for the
    argument tuples of chunk, or fn(item) with star=False. Returns (values,
    errors, seconds): errors maps the index of a call that raised to
    (exception or None, traceback text), so the driver raises at the very
    element that failed; seconds is how long the calls took here (the
    driver sizes the next chunks of fn from it: evofarm._window.Costs)."""
    start = time.perf_counter()
    values, errors, at = [], {}, 0
    while at < len(chunk):
        rest = itertools.islice(chunk, at, None) if at else chunk
        try:
            # extend() keeps what was appended before a call raised
            values.extend(itertools.starmap(fn, rest) if star else map(fn, rest))
        except Exception as exc:
            errors[len(values)] = _portable(exc)
            values.append(None)
        at = len(values)
    return values, errors, time.perf_counter() - start


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
