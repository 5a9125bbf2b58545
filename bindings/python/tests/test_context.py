import threading
import time

import pytest

import weft


def test_cancel_tree():
    root = weft.with_cancel()
    child = root.with_cancel()
    grandchild = child.with_timeout(60)
    other = weft.with_cancel()
    assert child.err is None
    root.cancel()
    assert isinstance(child.err, weft.Canceled)
    assert isinstance(grandchild.err, weft.Canceled)
    assert other.err is None
    assert isinstance(grandchild.wait(), weft.Canceled)
    for c in (grandchild, child, root, other):
        c.release()


def test_timeout_and_deadline():
    ctx = weft.with_timeout(0.02)
    assert ctx.deadline_ns is not None
    t0 = time.monotonic()
    assert isinstance(ctx.wait(), weft.Timeout)
    assert time.monotonic() - t0 >= 0.015
    d = weft.with_deadline(weft.now_ns() + 10_000_000)
    assert d.done()  # truthy although empty
    with pytest.raises(weft.Closed):
        d.done().recv(timeout=5)
    assert isinstance(d.err, weft.Timeout)
    assert weft.background().deadline_ns is None


def test_cancel_cause_and_background():
    ctx = weft.with_cancel()
    ctx.cancel(cause=42)
    ctx.cancel()  # idempotent
    assert ctx.cause == 42
    bg = weft.background()
    with pytest.raises(weft.InvalidArgument):
        bg.cancel()
    with pytest.raises(weft.Deadlock):
        bg.wait()
    assert bg.done() is None


def test_values():
    key = object()
    ctx = weft.with_value("user", {"name": "ada"})
    child = ctx.with_cancel().with_value(key, 7)
    assert child.value("user") == {"name": "ada"}
    assert child.value(key) == 7
    assert child.value("missing", "dflt") == "dflt"
    assert weft.background().value("user") is None


def test_done_channel_from_thread():
    ctx = weft.with_cancel()
    done = ctx.done()
    threading.Timer(0.02, ctx.cancel).start()
    with pytest.raises(weft.Closed):
        done.recv(timeout=5)  # closed when done


def test_group_first_error_cancels():
    g = weft.Group()
    started = threading.Event()

    def slow():
        started.set()
        err = g.ctx.wait(timeout=10)
        assert isinstance(err, weft.Canceled)

    def boom():
        started.wait(5)
        raise ValueError("boom")
    g.go(slow)
    g.go(boom)
    with pytest.raises(ValueError, match="boom"):
        g.wait()
    assert isinstance(g.ctx.err, weft.Canceled)


def test_group_limit_and_success():
    g = weft.Group(limit=2)
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "done": 0}

    def work():
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.005)
        with lock:
            state["now"] -= 1
            state["done"] += 1
    for _ in range(10):
        g.go(work)
    g.wait()
    assert state["done"] == 10 and state["max"] <= 2


def test_go_future_and_native(native_lib):
    import ctypes
    assert weft.go(lambda a, b: a + b, 2, 3).result(5) == 5
    ch = weft.Channel(0, _kind="int64")
    addr = ctypes.cast(native_lib.produce, ctypes.c_void_p).value
    weft.go_native(addr, weft._ffi.lib.weft_chan_retain(ch.handle))
    assert list(ch) == list(range(1, 101))
    wg = weft.WaitGroup()
    wg.add(50)
    nap = ctypes.cast(native_lib.nap, ctypes.c_void_p).value
    retain = weft._ffi.lib.weft_wg_retain
    for i in range(50):  # each task owns a reference: done() may run after wait returned
        if i % 2:
            weft.go_native(nap, retain(wg.handle), name="nap")
        else:
            weft.go_native(nap, retain(wg.handle))
    wg.wait(timeout=10)
    with pytest.raises(weft.InvalidArgument):
        weft.go_native(0)
    with pytest.raises(weft.InvalidArgument):
        weft.go("not callable")


def test_stats_and_version():
    import asyncio
    asyncio.run(weft.Channel(1).send_async(1))  # a task ran: the runtime is started
    s = weft.stats()
    assert s["workers"] >= 1 and len(s["runq_len"]) == s["workers"]
    assert weft.version() == "0.2.0"
    with pytest.raises(weft.Busy):
        weft.init(workers=2)
