"""The Python-shaped API: exceptions nobody retrieved reach threading.excepthook,
Group results and ExceptionGroup, contextvars in go(), errors naming the
argument, reprs with state, closed, copies, after_func, futures that asyncio
can wrap, collect with partial success."""
import asyncio
import contextvars
import copy
import gc
import sys
import threading
import time

import pytest

import weft


def _eventually(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        gc.collect()
        time.sleep(0.01)
    return False


def test_unretrieved_exceptions_reach_excepthook(monkeypatch):
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))

    def boom(tag):
        raise ValueError(tag)
    f = weft.go(boom, "from go")
    _eventually(f.done)
    del f
    wg = weft.WaitGroup()
    f = wg.go(boom, "from wg.go")
    wg.wait()
    _eventually(f.done)
    del f
    assert _eventually(lambda: len(seen) == 2)
    assert sorted(str(e) for e in seen) == ["from go", "from wg.go"]
    # retrieved: not reported again
    seen.clear()
    f = weft.go(boom, "retrieved")
    with pytest.raises(ValueError):
        f.result(5)
    del f
    gc.collect()
    time.sleep(0.05)
    assert seen == []


def test_group_results_and_exception_group():
    g = weft.Group()
    for i in range(5):
        g.go(lambda i=i: i * i)
    assert g.wait() == [0, 1, 4, 9, 16]

    if sys.version_info < (3, 11):
        return  # no ExceptionGroup: all_errors raises the first failure there
    g = weft.Group(all_errors=True)
    g.go(lambda: 1)
    g.go(lambda: (_ for _ in ()).throw(KeyError("a")))
    g.go(lambda: (_ for _ in ()).throw(ValueError("b")))
    with pytest.raises(BaseExceptionGroup) as info:  # noqa: F821 - Python >= 3.11 here
        g.wait()
    assert sorted(type(e).__name__ for e in info.value.exceptions) == ["KeyError", "ValueError"]
    assert g.ctx.err is not None  # the first failure canceled the group's context


def test_contextvars_are_copied_into_go():
    var = contextvars.ContextVar("var", default="unset")
    var.set("caller's")
    assert weft.go(var.get).result(5) == "caller's"

    def child_sets():
        var.set("child's")
        return var.get()
    assert weft.go(child_sets).result(5) == "child's"
    assert var.get() == "caller's"  # a copy: the caller's value is untouched


def test_errors_name_the_argument():
    with pytest.raises(weft.InvalidArgument, match="capacity"):
        weft.Channel(-1)
    with pytest.raises(weft.InvalidArgument, match="sleep"):
        weft.sleep("soon")
    with pytest.raises(weft.InvalidArgument, match="timeout"):
        weft.Channel(1).recv(timeout="1s")
    with pytest.raises(weft.InvalidArgument, match="case 1"):
        weft.select([weft.Channel(), 42])
    with pytest.raises(weft.InvalidArgument, match="callable"):
        weft.go(42)
    with pytest.raises(weft.Deadlock, match="never be done"):
        weft.background().wait()


def test_reprs_closed_and_copies(no_leaks):
    ch = weft.Channel(4)
    ch.send("a")
    assert "len=1 cap=4" in repr(ch) and "closed" not in repr(ch)
    assert not ch.closed
    twin = copy.copy(ch)  # a second reference, released on its own
    ch.close()
    assert ch.closed and twin.closed and "closed" in repr(ch)
    ch.release()
    assert "released" in repr(ch)
    assert twin.recv() == "a"  # still usable, nothing dropped by the first release
    twin.release()
    ctx = weft.with_timeout(10)
    assert "live" in repr(ctx) and "deadline in" in repr(ctx)
    ctx.cancel()
    assert "ECANCELED" in repr(ctx)
    assert "0 started" in repr(weft.Group())


def test_after_func_runs_on_a_binding_thread_and_stops():
    ctx = weft.with_cancel()
    ran = []
    af = ctx.after_func(lambda: ran.append(threading.current_thread().name) or "done")
    time.sleep(0.02)
    assert ran == []
    ctx.cancel()
    assert af.future.result(5) == "done"
    assert ran and ran[0].startswith("weft-go")
    assert not af.stop()  # already ran

    ctx2 = weft.with_cancel()
    af2 = ctx2.after_func(ran.append, "never")
    assert af2.stop()
    ctx2.cancel()
    af2.future.result(5)
    assert "never" not in ran


def test_futures_work_with_asyncio_and_collect_partial_success():
    async def main():
        return await asyncio.wrap_future(weft.go(lambda: 6 * 7))
    assert asyncio.run(main()) == 42

    def fail():
        raise RuntimeError("one failed")
    values, errors = weft.collect([lambda: 1, fail, lambda: 3], limit=2)
    assert values == [1, None, 3]
    assert errors[0] is None and isinstance(errors[1], RuntimeError) and errors[2] is None
    ctx = weft.with_cancel()
    ctx.cancel()
    values, errors = weft.collect([lambda: 1], ctx=ctx)
    assert values == [None] and isinstance(errors[0], weft.Canceled)
