"""The fork server of a node's Python evaluators (`evaluate: {python: ...,
start: fork}`, the default): one interpreter per farm and node imports
the driver's script once, as an evaluator would, and every worker of the
node gets its evaluator forked from it, instead of a fresh interpreter
that imports everything again (as multiprocessing's forkserver with
set_forkserver_preload).

    python3 -u -m evofarm._forkserver SOCKET LOCK

The worker that finds no server starts this one (farm/worker/forkserver.c)
and reads "ready" on our stdout once SOCKET listens. Each worker keeps
one connection for its life, on which, as many times as it needs one:

    worker -> server   u32 size, then its environment (NAME=VALUE, each
                       NUL-terminated), with its child's stdin, stdout and
                       stderr attached (SCM_RIGHTS)
    server -> worker   i32: the child's pid, or -errno when fork failed
    server -> worker   i32: the child's wait status, once it has ended

The child takes the worker's environment and CPU affinity, makes its own
process group, and dies with this server (PR_SET_PDEATHSIG); the server
kills a worker's child when the worker's connection closes before it has
ended (the worker died), and leaves, removing SOCKET, when no worker is
connected (under LOCK, so that a worker starting a new server never finds
a socket about to go)."""
import ctypes
import fcntl
import os
import selectors
import signal
import socket
import struct
import sys
from typing import Any, Dict, List, Optional, Set, Tuple

from . import _evaluator, _trace

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def _name(name: bytes) -> None:
    """The process's name in ps -o comm, top and /proc/PID/comm (its command
    line stays the server's)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def _die_with(parent: int, name: bytes) -> None:
    """In a child just forked: dies when `parent` does (PR_SET_PDEATHSIG),
    at once if it already has; named `name`."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before prctl
        os._exit(1)
    _name(name)


class _Worker:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pid, self.uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        self.child = 0      # its child's pid while it lives
        self.pidfd = -1
        self.open = True    # the worker is still connected


def _receive(sock: socket.socket) -> Optional[Tuple[Dict[bytes, bytes], List[int]]]:
    """(environment, [stdin, stdout, stderr]) of a request; None at EOF or
    on a malformed one."""
    data, fds, _, _ = socket.recv_fds(sock, 65536, 3)
    if len(data) < 4:
        for fd in fds:
            os.close(fd)
        return None
    size = struct.unpack_from("<I", data)[0]
    while len(data) < 4 + size:
        more = sock.recv(4 + size - len(data))
        if not more:
            break
        data += more
    if len(fds) != 3 or len(data) != 4 + size:
        for fd in fds:
            os.close(fd)
        return None
    env: Dict[bytes, bytes] = {}
    for item in data[4:].split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep and name:
            env[name] = value
    return env, fds


def _child(server_pid: int, worker: _Worker, env: Dict[bytes, bytes], fds: List[int], closing: List[Any]) -> None:
    """In the forked child: become the worker's evaluator; never returns.
    `closing`: what of the server's is to be closed here (its selector,
    listener, connections and pidfds); what the driver's script opened
    at import stays open, as in any fork."""
    try:
        os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)  # the server's SIGCHLD watch, where it has one, is not ours
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _die_with(server_pid, b"evofarm-eval")
        for thing in closing:
            thing.close() if hasattr(thing, "close") else os.close(thing)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environb.clear()
        os.environb.update(env)
        try:
            os.sched_setaffinity(0, os.sched_getaffinity(worker.pid))
        except OSError:
            pass
        _reseed()
        del _trace._events[:]  # the server's (or the driver's) are not this process's
        _evaluator.serve_stdio()
        if _trace.on:
            _trace.write()
    except BaseException:  # what the user's code does to us is its business; the worker sees the exit
        import traceback
        traceback.print_exc()
    os._exit(0)


def _reseed() -> None:
    """Each child draws its own random numbers, as a fresh interpreter
    would: Python's random reseeds itself after fork, numpy's global
    generator does not."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            numpy.random.seed()
        except Exception:
            pass


def _say(worker: _Worker, value: int) -> None:
    if worker.open:
        try:
            worker.sock.sendall(struct.pack("<i", value))
        except OSError:
            pass


def _leave_if_idle(listener: socket.socket, path: str, lock_path: str) -> None:
    """With no worker connected: leaves, unless one is about to connect
    (a worker holds LOCK while it connects or starts a server)."""
    try:  # never made here: made again after the farm removed its directory, it would keep that from going
        lock = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:  # the farm's directory, or its lock, is gone: its last worker left
        os._exit(0)
    fcntl.flock(lock, fcntl.LOCK_EX)
    if _pending(listener):
        os.close(lock)
        return
    try:
        os.unlink(path)
    except OSError:
        pass
    os._exit(0)


def _pending(listener: socket.socket) -> bool:
    with selectors.DefaultSelector() as sel:
        sel.register(listener, selectors.EVENT_READ)
        return bool(sel.select(0))


def serve(path: str, lock_path: str, ready: int = 1, first_wait: bool = False) -> None:
    """Listens on path and forks evaluators until no worker is connected;
    says "ready" on the descriptor `ready` once listening (stdout: a
    worker started us; closed after). first_wait: stay until a first
    worker has connected (a server the driver forked before its farm)."""
    old = os.umask(0o077)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except OSError:
        pass
    listener.bind(path)
    os.umask(old)
    listener.listen(128)
    os.write(ready, b"ready\n")
    if ready == 1:  # stdout, whose number stays taken
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, ready)
        os.close(devnull)
    else:
        os.close(ready)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    pidfds = _have_pidfds()
    wake = () if pidfds else _sigchld_pipe()  # without pidfds: SIGCHLD says some child ended
    if wake:
        sel.register(wake[0], selectors.EVENT_READ, ("ended", None))
    workers: Set[_Worker] = set()
    server_pid = os.getpid()
    known = _evaluator.load_known_main()  # prepare() tried: known now, or at a later request
    while True:
        if first_wait:
            first_wait = not sel.select()  # blocks until the first worker knocks
        if not workers and not _pending(listener):
            _leave_if_idle(listener, path, lock_path)
        for key, _ in sel.select():
            what = key.data
            if what is None:
                sock, _ = listener.accept()
                worker = _Worker(sock)
                if worker.uid != os.getuid():  # the directory is ours alone; a stranger here is refused anyway
                    sock.close()
                    continue
                workers.add(worker)
                sel.register(sock, selectors.EVENT_READ, ("worker", worker))
            elif what[0] == "worker":
                worker = what[1]
                request = _receive(worker.sock)
                if request is None:  # the worker left (or broke the protocol): its child goes too
                    sel.unregister(worker.sock)
                    worker.sock.close()
                    worker.open = False
                    if worker.child:
                        _kill_group(worker.child)
                    else:
                        workers.discard(worker)
                    continue
                env, fds = request
                if not known:  # the driver's script, once its constant has come (before the first calls)
                    known = _evaluator.load_known_main()
                closing = [sel, listener, *wake] + [w.sock for w in workers if w.open] + \
                    [w.pidfd for w in workers if w.pidfd >= 0]
                try:
                    pid = os.fork()
                except OSError as e:
                    for fd in fds:
                        os.close(fd)
                    _say(worker, -e.errno)
                    continue
                if pid == 0:
                    _child(server_pid, worker, env, fds, closing)
                for fd in fds:
                    os.close(fd)
                worker.child = pid
                if pidfds:
                    worker.pidfd = os.pidfd_open(pid)
                    sel.register(worker.pidfd, selectors.EVENT_READ, ("child", worker))
                _say(worker, pid)
            elif what[0] == "child":  # a child ended (its pidfd says)
                worker = what[1]
                sel.unregister(worker.pidfd)
                os.close(worker.pidfd)
                worker.pidfd = -1
                _ended(worker, os.waitpid(worker.child, 0)[1], workers)
            else:  # SIGCHLD: some children ended
                try:
                    while os.read(wake[0], 4096):
                        pass
                except BlockingIOError:
                    pass
                for worker in [w for w in workers if w.child]:
                    pid, status = os.waitpid(worker.child, os.WNOHANG)
                    if pid:
                        _ended(worker, status, workers)


def _ended(worker: _Worker, status: int, workers: Set[_Worker]) -> None:
    """The worker's child has ended (reaped, with this wait status):
    whatever it started is killed, its worker told."""
    _kill_group(worker.child)
    worker.child = 0
    _say(worker, status)
    if not worker.open:
        workers.discard(worker)


def _have_pidfds() -> bool:
    """Whether this kernel has pidfd_open (Linux 5.3 and later; not under
    valgrind either)."""
    try:
        os.close(os.pidfd_open(os.getpid()))
        return True
    except (OSError, AttributeError):
        return False


def _sigchld_pipe() -> Tuple[int, int]:
    """Where pidfds are missing: a pipe (read end, write end) that SIGCHLD
    writes to (signal.set_wakeup_fd), readable when some child ended."""
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(w)
    return r, w


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def fork_from_driver(directory: str) -> Optional[Tuple[str, int]]:
    """In a driver that starts its own farm (evofarm._embedded), before
    the farm: forks the fork server from this very process, which has
    imported everything the script imports, as multiprocessing's fork
    does (the script is not imported again anywhere). The server dies with
    the driver. Returns (its socket's path, its pid); None when this
    process runs threads besides the main one (a fork would copy their
    locks held: the workers then start their own server)."""
    import threading
    from . import _calls
    main = _calls.main_path()
    if threading.active_count() > 1 or not main or not main.endswith(".py"):
        return None
    path, lock_path = os.path.join(directory, "forkserver"), os.path.join(directory, "forkserver.lock")
    os.close(os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600))  # as a worker makes it
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _die_with(parent, b"evofarm-forksrv")
            os.setsid()  # a Ctrl-C at the terminal is the driver's: it ends, and we with it
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            _evaluator.adopt_main(main, _calls.script_digest(main))
            serve(path, lock_path, ready=write_end, first_wait=True)
        except BaseException:
            import traceback
            traceback.print_exc()
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        ok = f.readline() == b"ready\n"
    if not ok:
        os.waitpid(pid, 0)
        return None
    return path, pid


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: python3 -m evofarm._forkserver SOCKET LOCK (started by an evo-farm worker)")
    path, lock_path = sys.argv[1:]
    _name(b"evofarm-forksrv")
    _evaluator.prepare()  # sys.argv is the driver's from here on, if it is known yet
    serve(path, lock_path)


if __name__ == "__main__":
    from evofarm import _forkserver as _module  # as the package knows it (see _evaluator)
    _module.main()
