"""The worker shim: `evaluate: {python: python3}` runs ``python3 -u -m
evofarm._worker`` in each worker's evaluator slot. It reads frames from
stdin (u8 kind, u32 size, bytes: a call as encoded by evofarm._calls.encode) and
answers each with one frame (u8 status 0, u32 size, a pickled ("ok",
value) or ("raise", exception, traceback text)). What the user's code
prints goes to stderr, never into the frame stream."""
import importlib.util
import os
import pickle
import struct
import sys
import traceback

_mains = {}


def _load_main(path):
    """The driver's script imported as __mp_main__ (its `if __name__ ==
    "__main__":` block does not run) and aliased as __main__, as
    multiprocessing's spawn does, so that pickles of __main__.f resolve."""
    module = _mains.get(path)
    if module is None:
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        spec = importlib.util.spec_from_file_location("__mp_main__", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["__mp_main__"] = module
        sys.modules["__main__"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules["__mp_main__"]
            raise
        _mains[path] = module
    sys.modules["__main__"] = module


def _answer(value):
    try:
        return pickle.dumps(("ok", value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        return _raised(TypeError("the function's return value cannot be sent back: %s" % e))


def _raised(exc):
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        return pickle.dumps(("raise", exc, tb), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps(("raise", None, tb), protocol=pickle.HIGHEST_PROTOCOL)


def call(payload):
    """Runs one encoded call; returns the encoded answer. Whatever the call
    raises (an import error on this worker included) is answered, so the
    driver re-raises it; only the evaluator's own death is the farm's
    business (it retries the task elsewhere)."""
    try:
        n = int.from_bytes(payload[:2], "little")
        main = payload[2:2 + n].decode() or None
        inner = memoryview(payload)[2 + n:]
        if main is not None:
            _load_main(main)
        try:
            fn, args, kwargs = pickle.loads(inner)
        except AttributeError as exc:
            if main is not None and "__mp_main__" in str(exc):
                raise AttributeError("%s: on the workers the driver's script runs without its "
                                     "`if __name__ == \"__main__\":` block; define the function at module level "
                                     "in %s" % (exc, main)) from None
            raise
        return _answer(fn(*args, **kwargs))
    except Exception as exc:
        return _raised(exc)


def serve(inp, out):
    while True:
        head = inp.read(5)
        if len(head) < 5:
            return
        kind, size = struct.unpack("<BI", head)
        data = inp.read(size)
        if len(data) < size:
            return
        if kind != 1:
            text = b"the python evaluator takes calls from evofarm (Python drivers), not vectors"
            out.write(struct.pack("<BI", 1, len(text)) + text)
        else:
            answer = call(data)
            out.write(struct.pack("<BI", 0, len(answer)) + answer)
        out.flush()


def main():
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in user code goes to stderr, not into the frames
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
