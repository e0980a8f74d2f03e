"""The Python evaluator: `evaluate: {python: python3}` runs ``python3 -u -m
evofarm._evaluator`` in each worker's evaluator slot. It reads frames from
stdin (u8 kind, u32 size, bytes: a call as encoded by evofarm._calls.encode) and
answers each with one frame (u8 status, u32 size, then status 0 and a
pickled ("ok", value), or status 4 and a pickled ("raise", exception,
traceback text): an answer the farm's journal never keeps, so that a rerun
calls again what raised). While a call waits on
futures it submitted itself, the evaluator says so with a notice frame (status 2,
size 0) and again when it goes on (status 3): the worker then gives back the
work queued behind the call and stops its clock (docs/python.md, "Futures
inside tasks"). What the user's code prints goes to stderr, never into the
frame stream."""
import importlib.util
import os
import pickle
import select
import stat
import struct
import sys
import traceback

from . import _calls, _trace, _twin

_mains = {}
_out = None        # the frame stream, while this process serves a worker
_blocked = [False]  # whether the worker was told the call in progress waits


def serving():
    """Whether this process is a worker's Python evaluator."""
    return _out is not None


def set_blocked(blocked):
    """Tells the worker that the call in progress waits on its own futures
    (True) or goes on (False); a no-op outside a worker or when unchanged."""
    if _out is None or _blocked[0] == blocked:
        return
    _blocked[0] = blocked
    _out.write(struct.pack("<BI", 2 if blocked else 3, 0))
    _out.flush()


def _refuse_directory(path):
    """Raises ImportError when the directory of the driver's script (first
    on sys.path, where its imports are found) may be written by users other
    than ours and root: world-writable (/tmp, /dev/shm, a node's scratch),
    or someone else's. A group's project directory is trusted as the group
    is."""
    directory = os.path.dirname(path)
    try:
        st = os.stat(directory)
    except OSError as e:
        raise ImportError("the driver's script %s: %s" % (path, e.strerror)) from None
    if st.st_mode & stat.S_IWOTH or st.st_uid not in (os.getuid(), 0):
        why = "any user may write it" if st.st_mode & stat.S_IWOTH else "it belongs to uid %d" % st.st_uid
        raise ImportError("the driver's script %s: a worker will not import it, nor what it imports, from %s: %s "
                          "(mode %o), so another user could plant either; move the script to a directory of yours"
                          % (path, directory, why, stat.S_IMODE(st.st_mode)))


def _load_main(path, digest=None):
    """The driver's script imported as __mp_main__ (its `if __name__ ==
    "__main__":` block does not run) and aliased as __main__, as
    multiprocessing's spawn does, so that pickles of __main__.f resolve.
    Imported from the bytes whose SHA-256 it checks: a call's `digest` is
    the driver's, and a worker that finds other bytes at the path (another
    node's file, one changed since) refuses them, as it refuses a directory
    others may write (_refuse_directory)."""
    loaded = _mains.get(path)
    if loaded is None:
        import hashlib
        _refuse_directory(path)
        with open(path, "rb") as f:
            source = f.read()
        here = hashlib.sha256(source).digest()
        if digest is not None and here != digest:
            raise ImportError(_differs(path))
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        spec = importlib.util.spec_from_file_location("__mp_main__", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["__mp_main__"] = module
        sys.modules["__main__"] = module
        try:
            exec(compile(source, path, "exec"), module.__dict__)
        except BaseException:
            del sys.modules["__mp_main__"]
            raise
        loaded = _mains[path] = (module, here)
    elif digest is not None and loaded[1] != digest:
        raise ImportError(_differs(path))
    sys.modules["__main__"] = loaded[0]


def _differs(path):
    import socket
    return ("the driver's script %s on %s is not the driver's: its contents differ (another file at that path on "
            "this node, or the script changed since the driver started); a worker runs the driver's script or "
            "nothing" % (path, socket.gethostname()))


def _answer(value):
    """(the pickled answer, whether it is a raised exception)"""
    try:
        return _calls.dumps_fast(("ok", value)), False
    except Exception as e:
        return _raised(TypeError("the function's return value cannot be sent back: %s" % e))


def _raised(exc):
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        return pickle.dumps(("raise", exc, tb), protocol=pickle.HIGHEST_PROTOCOL), True
    except Exception:
        return pickle.dumps(("raise", None, tb), protocol=pickle.HIGHEST_PROTOCOL), True


_calls_running = [0]  # a token for each call running in this process, innermost last
_next_token = [0]


def current_call():
    """A token for the innermost call running here (0: none): a waiting
    call takes back only the calls it submitted itself."""
    return _calls_running[-1]


def call(payload):
    """Runs one encoded call; returns the encoded answer. Whatever the call
    raises (an import error on this worker included) is answered, so the
    driver re-raises it; only the evaluator's own death is the farm's
    business (it retries the task elsewhere)."""
    return _call_marked(payload)[0]


def _call_marked(payload):
    """call(), and whether its answer is a raised exception."""
    _next_token[0] += 1
    _calls_running.append(_next_token[0])
    try:
        return _call(payload)
    finally:
        _calls_running.pop()


def _call(payload):
    try:
        n = int.from_bytes(payload[:2], "little")
        main = payload[2:2 + n].decode() or None
        digest = bytes(payload[2 + n:2 + n + _calls.DIGEST]) if main is not None else None
        inner = memoryview(payload)[2 + n + (_calls.DIGEST if main is not None else 0):]
        if main is not None:
            _twin.from_constant()
            _load_main(main, digest)
        try:
            fn, args, kwargs = pickle.loads(inner)
            if _trace.on:
                _trace.point("evaluator.loaded")
        except AttributeError as exc:
            if main is not None and "__mp_main__" in str(exc):
                raise AttributeError("%s: on the workers the driver's script runs without its "
                                     "`if __name__ == \"__main__\":` block; define the function at module level "
                                     "in %s" % (exc, main)) from None
            raise
        value = fn(*args, **kwargs)
        if _trace.on:
            _trace.point("evaluator.called")
        answer, raised = _answer(value)
        # a map's chunk answers for each of its calls: one that raised makes it unkept too
        return answer, raised or (fn is _calls.run_chunk and bool(value[1]))
    except Exception as exc:
        return _raised(exc)


class _Frames:
    """The frames the worker writes on our stdin, read straight from the
    descriptor (no buffering we cannot see), so that a waiting call can ask
    whether the next one is already there."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.eof = False
        self.seq = 0  # frames taken so far

    def _complete(self):
        if len(self.buf) < 5:
            return None
        kind, size = struct.unpack_from("<BI", self.buf)
        if len(self.buf) < 5 + size:
            return None
        data = bytes(self.buf[5:5 + size])
        del self.buf[:5 + size]
        self.seq += 1
        return self.seq, kind, data

    def _fill(self):
        # 64 KiB, or the rest of a frame known to be bigger: a 1 MiB read
        # buffer each time is an mmap and munmap per call
        want = 65536
        if len(self.buf) >= 5:
            want = max(want, 5 + struct.unpack_from("<I", self.buf, 1)[0] - len(self.buf))
        chunk = os.read(self.fd, want)
        if not chunk:
            self.eof = True
        self.buf += chunk

    def take(self, block=True):
        """(seq, kind, data) of the next frame; None at EOF, or when
        block is False and no whole frame has arrived."""
        while True:
            frame = self._complete()
            if frame is not None or self.eof:
                return frame
            if not block and not select.select([self.fd], [], [], 0)[0]:
                return None
            self._fill()


_frames = None
_held = {}  # seq -> answer frame of a call lent to a waiting one, written after it


def _answer_frame(kind, data):
    if kind != 1:
        text = b"the python evaluator takes calls from evofarm (Python drivers), not vectors"
        return struct.pack("<BI", 1, len(text)) + text
    answer, raised = _call_marked(data)
    return struct.pack("<BI", 4 if raised else 0, len(answer)) + answer


def lend():
    """Inside a call that waits: runs here the next call the worker has
    already written to us, if there is one (it waits behind the blocked
    call otherwise, and what it leads to may be what the blocked call
    waits on); its answer is written after the blocked call's, in order.
    Whether one ran."""
    frame = _frames.take(block=False) if _frames is not None else None
    if frame is None:
        return False
    seq, kind, data = frame
    set_blocked(False)
    _held[seq] = _answer_frame(kind, data)
    return True


def input_fd():
    """The descriptor calls arrive on, or None outside a worker (a waiting
    call also watches it: a new call may be lent to it)."""
    return _frames.fd if _frames is not None else None


def serve(fd, out):
    """Answers the frames on fd, in order, on out, until EOF; or until the
    worker closes out (it stops a call whose driver has gone, or is told
    to leave): then this process ends quietly, as the worker expects."""
    global _frames
    _frames = _Frames(fd)
    try:
        while True:
            frame = _frames.take()
            if frame is None:
                return
            if _trace.on:
                _trace.point("evaluator.read")
            answer = _answer_frame(frame[1], frame[2])
            if _trace.on:
                _trace.point("evaluator.answer")
            set_blocked(False)
            out.write(answer)
            for seq in sorted(_held):  # calls lent to this one: all done before it
                out.write(_held.pop(seq))
            out.flush()
    except BrokenPipeError:
        _leave()


def _leave():
    """Ends this process at once, without a word: the worker that reads
    our answers has closed its end (what is buffered for it has nowhere to
    go, and flushing it at exit would only print a traceback; the
    driver's own atexit work, which a forked evaluator holds too, is not
    ours to run)."""
    if _trace.on:
        _trace.write()
    os._exit(0)


def prepare() -> None:
    """What an evaluator does before its first call, also a fork server
    before it forks evaluators (evofarm._forkserver): become the driver's
    twin; import the driver's script when it is known already (the farm's
    environment names it, or the driver's constant does), as its first
    call would; room for nested calls."""
    global _out
    if _out is None:  # an Executor made at the script's top sees itself inside a worker
        _out = open(os.devnull, "wb")
    _twin.from_environment()
    load_known_main()
    # Calls that wait on futures run others inline (evofarm.Executor._help):
    # room for deep nesting.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


_main_known = [False]


def adopt_main(path: str, digest: bytes) -> None:
    """A fork server forked from the driver itself: the driver's script is
    its __main__ already; calls find it there, as __main__ and as
    __mp_main__, without importing it again."""
    global _out
    if _out is None:
        _out = open(os.devnull, "wb")
    module = sys.modules["__main__"]
    sys.modules["__mp_main__"] = module
    _mains[path] = (module, digest)
    _main_known[0] = True
    _twin._done[0] = True  # the driver's own argv and path: nothing to take
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


def load_known_main() -> bool:
    """Imports the driver's script if it is known here already: the farm's
    environment names it (a farm the driver started itself), or the
    driver's constant has arrived (evofarm._twin). Whether it is known (an
    import that failed counts: the first call that needs the script raises
    the error, where the driver sees it)."""
    if _main_known[0]:
        return True
    script, digest = os.environ.get("EVO_FARM_PYTHON_MAIN"), None
    if not script:
        script, digest = _twin.from_constant()
    if not script:
        return False
    _main_known[0] = True
    try:
        _load_main(script, digest)
    except BaseException:
        _mains.pop(script, None)
        sys.modules.pop("__mp_main__", None)
    return True


def serve_stdio() -> None:
    """Serves the frames on stdin, answering on stdout; what the user's
    code prints goes to stderr instead."""
    global _out
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in user code goes to stderr, not into the frames
    sys.stdout = sys.stderr
    if _out is not None:  # the placeholder of prepare() or adopt_main()
        _out.close()
    _out = out
    serve(sys.stdin.fileno(), out)


def main():
    prepare()
    serve_stdio()


if __name__ == "__main__":
    # Run as `python3 -m evofarm._evaluator`: serve from the module as the
    # package knows it, so that evofarm.Executor inside a call sees it serving.
    from evofarm import _evaluator as _module
    _module.main()
