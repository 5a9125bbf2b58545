"""Typing: py.typed ships, mypy --strict is clean on examples/python, and the
hints are real (a Channel[int] receive is an int, not Any)."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CONFIG = os.path.join(HERE, "mypy-strict.ini")


def _mypy(*paths):
    pytest.importorskip("mypy")
    env = dict(os.environ, MYPYPATH=SRC)
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", CONFIG,
                           "--no-incremental", *paths],
                          capture_output=True, text=True, env=env, timeout=300)


def test_py_typed_ships():
    assert os.path.exists(os.path.join(SRC, "weft", "py.typed"))


def test_mypy_strict_clean_on_examples_and_hints_are_not_any(tmp_path):
    bad = tmp_path / "misuse.py"
    bad.write_text(
        "import weft\n"
        "ch: weft.Channel[int] = weft.Channel(1)\n"
        "ch.send('not an int')\n"
        "s: str = ch.recv()\n"
        "sel = weft.select([ch])\n"
        "i: str = sel.index\n")
    r = _mypy(os.path.join(REPO, "examples", "python"), str(bad))
    out = r.stdout
    errors = [line for line in out.splitlines() if ": error:" in line]
    # the examples: no error at all
    assert not [e for e in errors if "misuse.py" not in e], out
    # the misuse: each line caught (the hints are real, not Any)
    assert any('misuse.py:3: error: Argument 1 to "send" of "Channel" has incompatible type "str"'
               in e for e in errors), out
    assert any("misuse.py:4: error: Incompatible types in assignment" in e for e in errors), out
    assert any("misuse.py:6: error: Incompatible types in assignment" in e for e in errors), out
    assert len(errors) == 3, out
