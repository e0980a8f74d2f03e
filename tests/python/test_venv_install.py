"""The package installs into a fresh venv with no network
(`pip install --no-index python/`: an in-tree backend that needs only the
standard library), and a script in that venv, run as plain `python`, gets
a farm with nothing else set: evo-farm found on PATH, libevofarm asked of
it, the workers running the venv's interpreter."""
import os
import subprocess

from conftest import BUILD, PY, ROOT


def test_offline_venv_install_and_run(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([PY, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    env = {"PATH": "%s:/usr/bin:/bin" % (BUILD / "bin"), "HOME": str(tmp_path)}
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", str(ROOT / "python")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    version = (ROOT / "VERSION").read_text().strip()
    assert "Successfully installed evofarm-%s" % version in pip.stdout, pip.stdout[-1000:]
    script = tmp_path / "s.py"
    script.write_text("import sys, evofarm\n"
                      "from evofarm import futures\n"
                      "def where(x):\n    return x * x, sys.prefix, evofarm.__file__\n"
                      "if __name__ == '__main__':\n"
                      "    rs = list(futures.map(where, range(20)))\n"
                      "    print(sum(r[0] for r in rs), set(r[1] for r in rs) == {sys.prefix}, evofarm.__file__)\n")
    p = subprocess.run([str(venv / "bin" / "python"), str(script)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    total, same_prefix, package = p.stdout.split()
    assert total == "2470" and same_prefix == "True", p.stdout
    assert package.startswith(str(venv)), package  # the venv's copy, not the source tree's
    assert not os.path.exists(ROOT / "python" / "build"), "pip left a build directory in the source tree"
