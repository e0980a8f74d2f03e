"""evofarm — Python on an evo-farm: a drop-in for ``scoop.futures`` and a
``concurrent.futures.Executor`` whose calls run on the farm's workers.

Run a script as it is, or as a farm's driver::

    python3 script.py                                         # a local farm, one worker per core
    python3 -m evofarm -n 8 script.py                         # the same with 8 workers
    evo-farm run evolution.yaml -- python3 script.py          # the farm of that file
    srun --evo-farm=evolution.yaml -N2 -n56 python3 script.py # a Slurm step

with ``evaluate: {python: python3}`` in evolution.yaml, and in the script::

    from evofarm import futures            # instead of: from scoop import futures
    toolbox.register("map", futures.map)

Standard library only; the farm is reached through libevofarm (ctypes).
"""
from ._errors import FarmBroken, FarmError, RemoteTraceback
from .executor import Executor
from . import futures, shared  # `import evofarm` then `evofarm.futures.map`, as pyABC's examples write it

__all__ = ["Executor", "FarmBroken", "FarmError", "RemoteTraceback", "futures", "shared"]
