"""A PEP 517 build backend for the evofarm package that needs nothing but
the standard library, so that `pip install --no-index python/` works in a
venv with no network (setuptools' backend needs the `wheel` package, which
a fresh venv lacks). It builds a pure-Python wheel of evofarm/ and an
sdist; the version is the project's VERSION file (source tree) or
evofarm/_version.py (an installed tree, written by `make install`)."""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
NAME = "evofarm"


def _version():
    source = os.path.join(HERE, "..", "VERSION")
    if os.path.exists(source):
        with open(source) as f:
            return f.read().strip()
    with open(os.path.join(HERE, NAME, "_version.py")) as f:
        return re.search(r'"([^"]+)"', f.read()).group(1)


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: Python on an evo-farm: scoop.futures and a concurrent.futures.Executor\n"
            "Requires-Python: >=3.9\n" % (NAME, _version()))


def _files():
    package = os.path.join(HERE, NAME)
    for name in sorted(os.listdir(package)):
        if name.endswith(".py") or name == "py.typed":  # PEP 561: the package carries its types
            yield os.path.join(package, name), "%s/%s" % (NAME, name)


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    wheel_name = "%s-%s-py3-none-any.whl" % (NAME, version)
    info = "%s-%s.dist-info" % (NAME, version)
    entries = [(arc, open(path, "rb").read()) for path, arc in _files()]
    entries.append(("%s/METADATA" % info, _metadata().encode()))
    entries.append(("%s/WHEEL" % info, b"Wheel-Version: 1.0\nGenerator: evofarm_build\nRoot-Is-Purelib: true\n"
                                      b"Tag: py3-none-any\n"))
    record = [_record_line(arc, data) for arc, data in entries] + ["%s/RECORD,," % info]
    entries.append(("%s/RECORD" % info, ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for arc, data in entries:
            wheel.writestr(arc, data)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
        for path, arc in _files():
            sdist.add(path, "%s/%s" % (base, arc))
        for extra in ("pyproject.toml", os.path.join("build_backend", "evofarm_build.py")):
            sdist.add(os.path.join(HERE, extra), "%s/%s" % (base, extra))
        data = _metadata().encode()
        member = tarfile.TarInfo("%s/PKG-INFO" % base)
        member.size = len(data)
        sdist.addfile(member, io.BytesIO(data))
    return name
