"""The binding itself: complete prototypes, no ctypes callbacks, the examples."""
import os
import re
import subprocess
import sys

import pytest

import weft
from weft import _ffi

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "..", "src", "weft")
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
HEADER = os.path.join(REPO, "include", "weft.h")


def test_no_ctypes_callbacks_in_the_package():
    """Python code must never run on a task stack or worker thread: the binding
    builds no CFUNCTYPE/PYFUNCTYPE callbacks at all."""
    for name in os.listdir(PKG):
        if name.endswith(".py"):
            text = open(os.path.join(PKG, name)).read()
            code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
            code = re.sub(r'""".*?"""', "", code, flags=re.S)
            for bad in ("CFUNCTYPE", "PYFUNCTYPE", "WINFUNCTYPE", "_CFuncPtr"):
                assert bad not in code, (name, bad)


@pytest.mark.skipif(not os.path.exists(HEADER), reason="weft.h not found")
def test_prototypes_cover_the_header():
    text = open(HEADER).read()
    decls = re.findall(r"^[A-Za-z_][\w \*]*?[\s\*](weft_\w+)\s*\(([^)]*)\)\s*;", text, re.M)
    assert len(decls) > 100
    for name, params in decls:
        assert name in _ffi.PROTOTYPES, name
        params = params.strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        assert len(_ffi.PROTOTYPES[name][1]) == n, name
    assert set(_ffi.PROTOTYPES) == {n for n, _ in decls}
    m = re.search(r"WEFT_VERSION_MAJOR (\d+).*?WEFT_VERSION_MINOR (\d+).*?WEFT_VERSION_PATCH (\d+)", text, re.S)
    assert tuple(int(x) for x in m.groups()) == _ffi.HEADER_VERSION


def test_error_classes():
    assert issubclass(weft.Timeout, TimeoutError)
    e = weft.Closed()
    assert e.code == -32 and e.name == "WEFT_ECLOSED" and str(e) == "channel closed"
    assert weft.errors.error(-9999).code == -9999


def _example(name, *args):
    path = os.path.join(REPO, "examples", "python", name)
    if not os.path.exists(path):
        pytest.skip("examples not found")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(HERE, "..", "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("WEFT_LIB", _ffi.LIB_PATH)
    r = subprocess.run([sys.executable, path, *args], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_example_pipeline():
    assert "ok" in _example("pipeline.py", "--short")


def test_example_asyncio_fanout():
    assert "ok" in _example("asyncio_fanout.py", "--short")
