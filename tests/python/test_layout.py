"""The ctypes mirror of struct evo_result (python/evofarm/_client.py) has
the C layout: every field's offset and size, the whole size and the
objectives limit, as the compiler reports them (build/tests/result_layout)."""
import ctypes
import subprocess
import sys

from conftest import BUILD, ROOT

sys.path.insert(0, str(ROOT / "python"))
from evofarm import _client  # noqa: E402


def c_layout():
    out = subprocess.run([str(BUILD / "tests" / "result_layout")], capture_output=True, text=True, check=True).stdout
    fields, extra = {}, {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 3:
            fields[words[0]] = (int(words[1]), int(words[2]))
        else:
            extra[words[0]] = int(words[1])
    return fields, extra


def test_result_mirror_matches_c():
    fields, extra = c_layout()
    mirror = {name: (getattr(_client.Result, name).offset, getattr(_client.Result, name).size)
              for name, _ in _client.Result._fields_}
    assert mirror == fields
    assert ctypes.sizeof(_client.Result) == extra["sizeof"]
    assert _client.MAX_OBJECTIVES == extra["max_objectives"]
