"""evofarm — Python on an evo-farm: a drop-in for ``scoop.futures`` and a
``concurrent.futures.Executor`` whose calls run on the farm's workers.

Run a script as the farm's driver::

    evo-farm run evolution.yaml -- python3 script.py          # one machine
    srun --evo-farm=evolution.yaml --mpi=pmix -N2 -n56 evo-farm python3 script.py

with ``evaluate: {python: python3}`` in evolution.yaml, and in the script::

    from evofarm import futures            # instead of: from scoop import futures
    toolbox.register("map", futures.map)

Standard library only; the farm is reached through libevofarm (ctypes).
"""
from ._errors import FarmError, RemoteTraceback
from .executor import Executor

__all__ = ["Executor", "FarmError", "RemoteTraceback", "futures"]
