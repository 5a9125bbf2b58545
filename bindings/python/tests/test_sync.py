import threading
import time

import pytest

import weft


def test_waitgroup_from_threads():
    wg = weft.WaitGroup()
    hits = []
    for i in range(20):
        wg.go(lambda i=i: (time.sleep(0.001), hits.append(i)))
    wg.wait(timeout=10)
    assert sorted(hits) == list(range(20))


def test_waitgroup_negative_and_timeout():
    wg = weft.WaitGroup()
    with pytest.raises(weft.OutOfRange):
        wg.done()
    with pytest.raises(weft.OutOfRange):
        wg.add(-5)
    wg.add(1)
    with pytest.raises(weft.Timeout):
        wg.wait(timeout=0.01)
    with weft.with_cancel() as ctx:
        ctx.cancel()
        with pytest.raises(weft.Canceled):
            wg.wait(ctx=ctx)
    wg.done()
    wg.wait()


def test_mutex_counter_from_threads():
    mu = weft.Mutex()
    state = {"n": 0}

    def work():
        for _ in range(2000):
            with mu:
                v = state["n"]
                state["n"] = v + 1
    ts = [threading.Thread(target=work) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert state["n"] == 12000


def test_mutex_misuse_and_try():
    mu = weft.Mutex()
    with pytest.raises(weft.NotOwner):
        mu.unlock()
    assert mu.try_lock() is True
    assert mu.try_lock() is False
    with pytest.raises(weft.Timeout):
        mu.lock(timeout=0.01)
    mu.unlock()
    mu.release()
    mu.release()
    with pytest.raises(weft.InvalidArgument):
        mu.lock()


def test_rwmutex():
    rw = weft.RWMutex()
    with rw.reader:
        assert rw.try_rlock() is True
        assert rw.try_lock() is False
        rw.runlock()
    with rw.writer:
        assert rw.try_rlock() is False
    with pytest.raises(weft.NotOwner):
        rw.unlock()
    with pytest.raises(weft.NotOwner):
        rw.runlock()


def test_semaphore_limits_concurrency():
    sem = weft.Semaphore(3)
    mu = threading.Lock()
    state = {"now": 0, "max": 0}

    def work():
        with sem:
            with mu:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.005)
            with mu:
                state["now"] -= 1
    futures = [weft.go(work) for _ in range(24)]
    for f in futures:
        f.result(10)
    assert state["max"] <= 3
    with pytest.raises(weft.OutOfRange):
        sem.release(1)
    with pytest.raises(weft.InvalidArgument):
        sem.acquire(4)
    assert sem.try_acquire(3) is True
    assert sem.try_acquire(1) is False
    sem.release(3)
    sem.close()


def test_once():
    once = weft.Once()
    calls = []
    ts = [threading.Thread(target=once.do, args=(lambda: (time.sleep(0.01), calls.append(1)),))
          for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(5)
    assert calls == [1] and once.done


def test_cond():
    cond = weft.Cond()
    items = []
    got = []

    def consumer():
        with cond:
            while not items:
                cond.wait(timeout=5)
            got.append(items.pop())
    t = threading.Thread(target=consumer)
    t.start()
    time.sleep(0.02)
    with cond:
        items.append("x")
        cond.signal()
    t.join(5)
    assert got == ["x"]
    with pytest.raises(weft.NotOwner):
        cond.wait()
    with cond:
        with pytest.raises(weft.Timeout):
            cond.wait(timeout=0.01)
