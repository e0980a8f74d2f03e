"""python3 -m evofarm [-n N] [--config FILE] script.py [ARGS...] — runs a
script as a farm's driver, the way ``python -m scoop script.py`` does:
with --config, under ``evo-farm run FILE`` (that file's farm and
environment); without, as plain ``python3 script.py`` on a local farm of N
workers (default: one per core) that the script starts for itself."""
import argparse
import os
import sys

from . import _embedded


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m evofarm", description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--workers", type=int, metavar="N", help="workers (default: one per core)")
    parser.add_argument("--config", metavar="FILE", help="an evolution.yaml to run the farm from")
    parser.add_argument("script", help="the driver script")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args(argv)
    if options.workers is not None and options.workers < 1:
        parser.error("-n needs a number of workers of at least 1")
    if not os.path.exists(options.script):
        parser.error("%s: no such file" % options.script)
    command = [sys.executable, options.script] + options.args
    if options.config:
        evo = _embedded._command()
        extra = ["-n", str(options.workers)] if options.workers else []
        os.execv(evo, [evo, "run", options.config] + extra + ["--"] + command)
    if options.workers:
        os.environ["EVO_FARM_WORKERS"] = str(options.workers)
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
