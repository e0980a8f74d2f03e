"""A worker is the driver's twin (docs/python.md, "How calls travel"): its
Python evaluator takes the driver's sys.argv and the entries of the
driver's sys.path that exist on its node, before it imports the driver's
script, as multiprocessing's spawn gives its children their parent's.

Two ways there: a farm the driver starts for itself puts them in the
farm's environment (EVO_FARM_PYTHON_ARGV, _PATH: each item's bytes in
hex, comma-separated), so that the evaluators can import the script
while the driver starts; in a farm that exists before the driver
(`evo-farm run`, a Slurm step, where the workers start with the task's
own command line), the driver's first Executor shares them as the
constant TWIN, which reaches every worker, on every node, before any
call submitted after it; with the path and SHA-256 of the driver's
script, which a fork server imports before it forks evaluators."""
import os
import pickle
import sys
from typing import Any, Dict, List, Optional, Tuple

TWIN = "_evofarm_twin"
_done = [False]  # this process took the constant, or shared it, already


def _hex_list(name: str) -> Optional[List[str]]:
    """Environment variable `name` as a list, or None."""
    text = os.environ.get(name)
    if text is None:
        return None
    return [os.fsdecode(bytes.fromhex(item)) for item in text.split(",")]


def environment() -> Dict[str, str]:
    """The driver's argv and path, as the farm's environment gives them to
    the evaluators of a farm the driver started itself."""
    return {"EVO_FARM_PYTHON_ARGV": ",".join(os.fsencode(a).hex() for a in sys.argv),
            "EVO_FARM_PYTHON_PATH": ",".join(os.fsencode(p).hex() for p in sys.path)}


def _become(argv: Optional[List[str]], path: Optional[List[str]]) -> None:
    if argv:
        sys.argv = list(argv)
    if path:
        ours = [p for p in path if p == "" or os.path.exists(p)]
        sys.path[:] = ours + [p for p in sys.path if p not in ours]


def from_environment() -> None:
    """In an evaluator: the driver's argv and path from the environment,
    when the farm has them there (`evo-farm run -- python3 SCRIPT ARGS`
    names the arguments; the driver's constant, when it shares one, then
    has the last word)."""
    _become(_hex_list("EVO_FARM_PYTHON_ARGV"), _hex_list("EVO_FARM_PYTHON_PATH"))


def from_constant() -> Tuple[Optional[str], Optional[bytes]]:
    """In an evaluator, before it first imports the driver's script: the
    driver's argv and path from the constant its driver shared, if it did
    (once per process; the constant is written before any call submitted
    after it arrives). (the driver's script, its SHA-256), or Nones."""
    if _done[0]:
        return None, None
    directory = os.environ.get("EVO_FARM_SHARED_DIR")
    if not directory:
        _done[0] = True
        return None, None
    try:
        with open(os.path.join(directory, TWIN), "rb") as f:
            argv, path, main, digest = pickle.load(f)
    except FileNotFoundError:  # not yet: a fork server asks again before each fork, a call before its import
        return None, None
    except (OSError, pickle.UnpicklingError, ValueError, EOFError, TypeError):
        _done[0] = True
        return None, None
    _done[0] = True
    _become(argv, path)
    return main, digest


def share(executor: Any) -> None:
    """In a driver whose farm existed before it: shares its argv and path
    with every worker, once per process (`executor._share`)."""
    if _done[0]:
        return
    _done[0] = True
    from . import _calls
    main = _calls.main_path()
    digest = _calls.script_digest(main) if main else None
    executor._share(TWIN, pickle.dumps((list(sys.argv), list(sys.path), main, digest),
                                       protocol=pickle.HIGHEST_PROTOCOL))
