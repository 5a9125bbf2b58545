import gc
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)

import weft  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


@pytest.fixture
def no_leaks():
    """Checks that the objects in flight through channels all arrived or were
    dropped (the registry is back where it started)."""
    gc.collect()
    before = weft.registry_size()
    yield
    gc.collect()
    assert weft.registry_size() == before


@pytest.fixture(scope="session")
def native_lib(tmp_path_factory):
    """A tiny C library with native task bodies (skipped without a compiler)."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("native")
    src = d / "bodies.c"
    src.write_text(
        '#include "weft.h"\n'
        "#include <stdint.h>\n"
        "/* arg: a weft channel of int64; sends 1..100 from a task and closes it. */\n"
        "void produce(void *arg) {\n"
        "  weft_chan_t *ch = arg;\n"
        "  for (int64_t i = 1; i <= 100; i++) weft_chan_send(ch, &i);\n"
        "  weft_chan_close(ch);\n"
        "  weft_chan_release(ch);\n"
        "}\n"
        "/* arg: a weft wg reference (retained for this task): sleeps 1 ms,\n"
        " * done, then drops the task's reference (the waiter may be gone). */\n"
        "void nap(void *arg) {\n"
        "  weft_sleep_ns(1000000);\n"
        "  weft_wg_done(arg);\n"
        "  weft_wg_release(arg);\n"
        "}\n")
    so = d / "libbodies.so"
    lib = os.environ.get("WEFT_LIB") or weft.LIB_PATH
    r = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-I", os.path.join(REPO, "include"),
                        str(src), "-o", str(so), lib], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot compile the native helper: " + r.stderr[-300:])
    import ctypes
    return ctypes.CDLL(str(so))


def pytest_terminal_summary(terminalreporter):
    # Tests/run-all.sh sums "N passed, N failed" lines; pytest omits "0 failed".
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    terminalreporter.write_line("python: %d passed, %d failed" % (passed, failed))
