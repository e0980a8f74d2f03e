"""Helpers for the Python tests: real farms started with the built
evo-farm, drivers run with Debian's /usr/bin/python3 (the tests need its
python3-deap and numpy, not whatever python3 comes first on PATH)."""
import atexit
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The tests own their world: a HOME of their own, so that the farm records
# and join credentials (~/.evo-farm) of whoever runs them are neither read
# nor written, and a mark in the environment of every process they start,
# by which own_pids finds their processes and never another's.
WORLD = tempfile.mkdtemp(prefix="evo-farm-pytest-")
atexit.register(shutil.rmtree, WORLD, True)
os.environ["HOME"] = os.path.join(WORLD, "home")
os.mkdir(os.environ["HOME"])
MARK = "evo-farm-test-%d" % os.getpid()
os.environ["EVO_TEST_MARK"] = MARK


def own_pids(pattern):
    """The PIDs of this session's processes (their environment carries
    MARK) whose command line matches the regular expression pattern."""
    mark, found = ("EVO_TEST_MARK=%s" % MARK).encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if mark not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone, or not ours to read
            continue
        if re.search(pattern, cmdline):
            found.append(int(entry))
    return found
BUILD = ROOT / os.environ.get("BUILD", "build")
EVO = str(BUILD / "bin" / "evo-farm")
PY = "/usr/bin/python3"
SCRIPTS = pathlib.Path(__file__).resolve().parent / "scripts"


def plain_env(**extra):
    """This environment without any farm's variables, the package on the
    path as a user of the source tree has it (evo-farm and libevofarm are
    found beside it, under BUILD)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVO_FARM_")}
    env.update(PYTHONPATH=str(ROOT / "python"), **extra)
    return env


def run_script(tmp_path, text, *args, timeout=120, **env):
    """Writes text to tmp_path/script.py and runs it as plain `python3
    script.py ARGS` outside any farm; returns the CompletedProcess, after
    checking it exited 0."""
    (tmp_path / "script.py").write_text(text)
    p = subprocess.run([PY, "script.py", *map(str, args)], cwd=tmp_path, env=plain_env(**env), capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout[-1000:] + p.stderr[-2000:]
    return p


class Farm:
    def __init__(self, tmp):
        self.tmp = tmp

    def config(self, text="", python=PY):
        path = self.tmp / "farm.yaml"
        path.write_text("farm: {heartbeat: 200ms, retries: 2, timeout: 30s}\nevaluate: {python: %s}\n%s" % (python, text))
        return path

    def run(self, *argv, workers=2, config=None, timeout=120, check=True, python=PY):
        """Runs `evo-farm run CONFIG -n W -- PYTHON ARGV...` in tmp; returns
        the CompletedProcess (stdout and stderr as text)."""
        cfg = config or self.config(python=python)
        cmd = [EVO, "run", str(cfg), "-n", str(workers), "--", python, *map(str, argv)]
        p = subprocess.run(cmd, cwd=self.tmp, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s exited %d\n--- stdout\n%s\n--- stderr\n%s"
                                 % (" ".join(cmd), p.returncode, p.stdout, p.stderr[-3000:]))
        return p


@pytest.fixture
def farm(tmp_path):
    return Farm(tmp_path)
