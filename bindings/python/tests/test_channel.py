import threading
import time

import pytest

import weft


def test_buffered_fifo_and_len(no_leaks):
    ch = weft.Channel(10)
    assert ch.cap == 10 and len(ch) == 0
    for i in range(10):
        ch.send(i)
    assert len(ch) == 10
    with pytest.raises(weft.WouldBlock):
        ch.try_send(99)
    assert [ch.recv() for _ in range(10)] == list(range(10))
    with pytest.raises(weft.WouldBlock):
        ch.try_recv()
    assert ch.try_recv(default="none") == "none"


def test_any_object_round_trips(no_leaks):
    class Thing:
        pass
    thing = Thing()
    values = [None, 0, -1, 2**100, 1.5, "text", b"bytes", (1, 2), [3, {"k": [4]}], {5},
              thing, len, Exception("e")]
    ch = weft.Channel(len(values))
    for v in values:
        ch.send(v)
    got = [ch.recv() for _ in values]
    for a, b in zip(values, got):
        assert a is b  # the same object, not a copy


def test_unbuffered_rendezvous(no_leaks):
    ch = weft.Channel()
    with pytest.raises(weft.WouldBlock):
        ch.try_send(1)  # nobody receiving
    got = []
    t = threading.Thread(target=lambda: got.append(ch.recv()))
    t.start()
    ch.send("hello")
    t.join(5)
    assert got == ["hello"]


def test_close_drains_then_closed(no_leaks):
    ch = weft.Channel(3)
    ch.send("a")
    ch.send("b")
    ch.close()
    with pytest.raises(weft.Closed):
        ch.send("c")
    assert list(ch) == ["a", "b"]
    with pytest.raises(weft.Closed):
        ch.recv()
    with pytest.raises(weft.Closed):
        ch.close()  # double close


def test_close_wakes_blocked_receivers():
    ch = weft.Channel()
    errors = []

    def recv():
        try:
            ch.recv()
        except weft.Closed as e:
            errors.append(e)
    ts = [threading.Thread(target=recv) for _ in range(4)]
    for t in ts:
        t.start()
    time.sleep(0.05)
    ch.close()
    for t in ts:
        t.join(5)
    assert len(errors) == 4


def test_timeout_and_ctx():
    ch = weft.Channel()
    t0 = time.monotonic()
    with pytest.raises(weft.Timeout):
        ch.recv(timeout=0.05)
    assert time.monotonic() - t0 >= 0.04
    with pytest.raises(weft.Timeout):
        ch.send(1, timeout=0.01)
    with weft.with_cancel() as ctx:
        threading.Timer(0.02, ctx.cancel).start()
        with pytest.raises(weft.Canceled):
            ch.recv(ctx=ctx)
    with weft.with_cancel() as ctx:
        with pytest.raises(weft.Timeout):
            ch.recv(ctx=ctx, timeout=0.01)
    assert weft.registry_size() == 0


def test_many_producers_consumers_checksum(no_leaks):
    ch = weft.Channel(16)
    producers, consumers, per = 8, 6, 2000
    sums = []
    lock = threading.Lock()

    def produce(p):
        for i in range(per):
            ch.send((p, i))

    def consume():
        s = 0
        n = 0
        for p, i in ch:
            s += p * 100000 + i
            n += 1
        with lock:
            sums.append((s, n))
    cs = [threading.Thread(target=consume) for _ in range(consumers)]
    ps = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in cs + ps:
        t.start()
    for t in ps:
        t.join(30)
    ch.close()
    for t in cs:
        t.join(30)
    expected = sum(p * 100000 + i for p in range(producers) for i in range(per))
    assert sum(s for s, _ in sums) == expected
    assert sum(n for _, n in sums) == producers * per


def test_leftovers_dropped_on_release(no_leaks):
    ch = weft.Channel(5)
    for i in range(5):
        ch.send([i])
    assert weft.registry_size() >= 5
    ch.release()
    ch.release()  # exactly once: the second is a no-op
    with pytest.raises(weft.InvalidArgument):
        ch.send(1)


def test_leftovers_dropped_on_gc(no_leaks):
    ch = weft.Channel(3)
    ch.send(object())
    ch.send(object())
    del ch  # refcount -> __del__ drains


def test_bad_capacity():
    with pytest.raises(weft.InvalidArgument):
        weft.Channel(-1)
    with pytest.raises(weft.NoMemory):
        weft.Channel(2**40)


def test_after_and_ticker():
    t0 = weft.now_ns()
    stamp = weft.after(0.02).recv(timeout=2)
    assert stamp - t0 >= 15_000_000
    tk = weft.ticker(0.005)
    a = tk.recv(timeout=2)
    b = tk.recv(timeout=2)
    assert b > a
    assert tk.stop() is True
    tm = weft.after(10)
    assert tm.stop() is True and tm.stop() is False


def test_sleep():
    t0 = time.monotonic()
    weft.sleep(0.02)
    assert time.monotonic() - t0 >= 0.015
