"""The farm a Python driver makes for itself when it runs outside any farm
(plain ``python3 script.py``): ``evo-farm run`` on this machine with one
worker per core (``EVO_FARM_WORKERS`` or ``Executor(max_workers=N)`` sets
the number), whose workers run calls with this very interpreter, and whose
driver is ``evo-farm __hold``: it hands this process the farm's variables
and keeps the farm up until this process closes its end of a pipe, at exit
at the latest (the farm then stops: nothing is left running)."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import _twin
from ._errors import FarmError

_VARIABLES = ("EVO_FARM_ENDPOINT", "EVO_FARM_SERVER_KEY", "EVO_FARM_CLIENT_PUBLIC", "EVO_FARM_CLIENT_SECRET")


def inside_a_farm():
    """Whether this process is the driver of a farm (evo-farm run, or rank 0
    of a Slurm step): the farm put its variables in our environment."""
    return all(os.environ.get(name) for name in _VARIABLES)


def beside_package(installed, built):
    """Where a file of the evo-farm this package came with would be:
    `installed` under PREFIX (the package is PREFIX/lib/evo-farm/python/
    evofarm), `built` under the source tree's BUILD directory (the package
    is python/evofarm)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, "..", "..", "..", "..", installed),
            os.path.join(here, "..", "..", os.environ.get("BUILD", "build"), built)]


def _command():
    """evo-farm: $EVO_FARM_BIN, else beside this package, else on PATH."""
    candidates = [os.environ.get("EVO_FARM_BIN"), *beside_package("bin/evo-farm", "bin/evo-farm"),
                  shutil.which("evo-farm")]
    for path in candidates:
        if path and os.access(path, os.X_OK) and not os.path.isdir(path):
            return os.path.realpath(path)
    raise FarmError("this script uses evofarm outside any farm, and no evo-farm command was found to start one "
                    "(install evo-farm, put it on PATH, or set EVO_FARM_BIN)")


class EmbeddedFarm:
    """A local farm for this process; stopped by stop() or at exit."""

    def __init__(self, workers=None):
        evo = _command()
        self._dir = tempfile.TemporaryDirectory(prefix="evofarm-")
        config = os.path.join(self._dir.name, "farm.yaml")
        with open(config, "w") as f:
            # the workers' directory is the driver's (a data file opened by a
            # relative path), not the configuration's temporary one
            f.write("evaluate: {python: %s, workdir: %s}\n" % (json.dumps(sys.executable), json.dumps(os.getcwd())))
        argv = [evo, "run", config, "-q"]
        if workers:
            argv += ["-n", str(int(workers))]
        # the workers' evaluators forked from this very process, which has
        # imported all the script imports (evofarm._forkserver); first, so
        # that the server holds nothing of the farm's
        from . import _forkserver
        self._server = _forkserver.fork_from_driver(self._dir.name)
        read_end, write_end = os.pipe()
        env = dict(os.environ, EVO_FARM_READY_FD=str(write_end))
        if self._server:
            env["EVO_FARM_FORKSERVER"] = self._server[0]
        from ._calls import main_path
        if main_path() and main_path().endswith(".py"):  # imported by the workers while this one goes on
            env["EVO_FARM_PYTHON_MAIN"] = main_path()
        # the workers are this process's twins: its arguments and its sys.path (pytest's, say)
        env.update(_twin.environment())
        env.pop("EVO_FARM_WORKERS", None)
        try:
            self._process = subprocess.Popen(argv + ["--", evo, "__hold"], stdin=subprocess.PIPE, env=env,
                                             pass_fds=(write_end,))
        except OSError as exc:
            os.close(read_end)
            os.close(write_end)
            self._end_server()
            raise FarmError("cannot start a local farm with %s: %s" % (evo, exc)) from None
        os.close(write_end)
        values = self._read_variables(read_end)
        os.environ.update(values)
        atexit.register(self.stop)

    def _read_variables(self, fd):
        values = {}
        with os.fdopen(fd, "r") as ready:
            for line in ready:  # until "end"; EOF first means the farm failed to start
                line = line.rstrip("\n")
                if line == "end":
                    return values
                name, _, value = line.partition("=")
                values[name] = value
        code = self._process.wait()
        self._end_server()
        raise FarmError("the local farm did not start (evo-farm exited with status %d; see its message above)" % code)

    def stop(self):
        """Ends the farm: its driver sees our pipe close, the workers get BYE."""
        process, self._process = getattr(self, "_process", None), None
        if process is None:
            return
        try:
            process.stdin.close()
            process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        for name in _VARIABLES + ("EVO_FARM_UNIX_SOCKET",):
            os.environ.pop(name, None)
        self._end_server()
        self._dir.cleanup()

    def _end_server(self):
        """The fork server this process forked: gone with the farm's last
        worker, or killed now; reaped."""
        server, self._server = getattr(self, "_server", None), None
        if server:
            import signal
            try:
                os.kill(server[1], signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(server[1], 0)


_farm = None


def started():
    """Whether this process started its own farm (its workers then have
    its argv and sys.path from the farm's environment: evofarm._twin)."""
    return _farm is not None


def ensure(workers=None):
    """Makes sure this process can reach a farm: the one it runs in, or a
    local one started now (once per process)."""
    global _farm
    if inside_a_farm():
        return
    if _farm is None:
        requested = workers or os.environ.get("EVO_FARM_WORKERS") or None
        _farm = EmbeddedFarm(requested)
