"""A user's venv (python3 -m venv, no system packages) sees evofarm: the
runtime puts the package first on PYTHONPATH for the driver and for the
evaluators, so nothing is installed into the venv."""
import subprocess

from conftest import PY


def test_venv_driver_and_workers(farm, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    script = tmp_path / "where.py"
    script.write_text(
        "import sys\nfrom evofarm import futures\n\n"
        "def prefix(_):\n    return sys.prefix\n\n"
        "if __name__ == '__main__':\n"
        "    print('driver', sys.prefix)\n"
        "    print('workers', sorted(set(futures.map(prefix, range(20)))))\n")
    p = farm.run(script, python=python)
    assert "driver %s" % venv in p.stdout, p.stdout
    assert "workers ['%s']" % venv in p.stdout, p.stdout
