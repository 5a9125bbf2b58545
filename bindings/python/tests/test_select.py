import collections
import threading
import time

import pytest

import weft


def test_select_recv_ready(no_leaks):
    a, b = weft.Channel(1), weft.Channel(1)
    b.send("B")
    sel = weft.select([weft.Recv(a), weft.Recv(b)], timeout=1)
    assert sel == (1, "B", True)


def test_select_default_and_timeout(no_leaks):
    a = weft.Channel()
    assert weft.select([a, weft.Send(a, "x")], default=True) == (-1, None, False)
    t0 = time.monotonic()
    with pytest.raises(weft.Timeout):
        weft.select([a, weft.Send(a, "x")], timeout=0.03)
    assert time.monotonic() - t0 >= 0.02


def test_select_send_fires_once(no_leaks):
    a, b = weft.Channel(1), weft.Channel(1)
    sel = weft.select([weft.Send(a, "to a"), weft.Send(b, "to b")])
    assert sel.ok
    assert (len(a), len(b)) == ((1, 0) if sel.index == 0 else (0, 1))
    (a if sel.index == 0 else b).recv()


def test_select_fairness(no_leaks):
    a, b = weft.Channel(1), weft.Channel(1)
    counts = collections.Counter()
    for _ in range(2000):
        if len(a) == 0:
            a.send(1)
        if len(b) == 0:
            b.send(2)
        counts[weft.select([a, b]).index] += 1
    a.try_recv(None), b.try_recv(None)
    assert 700 < counts[0] < 1300, counts


def test_select_closed_recv_and_send():
    a = weft.Channel()
    a.close()
    assert weft.select([a], timeout=1) == (0, None, False)
    with pytest.raises(weft.Closed):
        weft.select([weft.Send(a, 1)], timeout=1)
    assert weft.registry_size() == 0


def test_select_blocks_until_thread_sends(no_leaks):
    a, b = weft.Channel(), weft.Channel()
    threading.Timer(0.02, lambda: b.send("late")).start()
    assert weft.select([a, b], timeout=5) == (1, "late", True)


def test_select_ctx_done_and_after():
    ch = weft.Channel()
    with weft.with_timeout(0.02) as ctx:
        sel = weft.select([ch, ctx.done()], timeout=5)
        assert sel.index == 1 and sel.ok is False
        assert isinstance(ctx.err, weft.Timeout)
    sel = weft.select([ch, weft.after(0.01)])
    assert sel.index == 1 and isinstance(sel.value, int)


def test_select_none_case_and_empty_select_blocks():
    with pytest.raises(weft.Timeout):
        weft.select([None], timeout=0.01)
    # Go's empty select blocks: here until the timeout or the context ends.
    t0 = time.monotonic()
    with pytest.raises(weft.Timeout):
        weft.select([], timeout=0.15)
    assert time.monotonic() - t0 >= 0.14
    with weft.with_cancel() as ctx:
        threading.Timer(0.1, ctx.cancel).start()
        with pytest.raises(weft.Canceled):
            weft.select([], ctx=ctx)
    # ...and forever on another thread too (not EDEADLK): still blocked after 1.5 s.
    blocked = weft.go(weft.select, [])
    time.sleep(1.5)
    assert not blocked.done()
    with pytest.raises(weft.InvalidArgument, match="case 0"):
        weft.select(["not a case"])
