import asyncio
import threading
import time

import pytest

import weft


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_10k_concurrent_recv_resolved_from_thread(no_leaks):
    ch = weft.Channel()
    n = 10_000

    async def main():
        tasks = [asyncio.create_task(ch.recv_async()) for _ in range(n)]
        await asyncio.sleep(0)
        threads_before = threading.active_count()

        def produce():
            for i in range(n):
                ch.send(i)
        fut = weft.go(produce)
        got = await asyncio.gather(*tasks)
        fut.result(30)
        assert threading.active_count() <= threads_before + 2  # no thread per await
        return got
    got = run(main())
    assert sorted(got) == list(range(n))


def test_send_async_and_async_for(no_leaks):
    ch = weft.Channel(8)

    async def main():
        async def producer():
            for i in range(500):
                await ch.send_async({"i": i})
            ch.close()
        p = asyncio.create_task(producer())
        got = [v["i"] async for v in ch]
        await p
        return got
    assert run(main()) == list(range(500))


def test_recv_async_timeout_and_closed(no_leaks):
    ch = weft.Channel()

    async def main():
        with pytest.raises(weft.Timeout):
            await ch.recv_async(timeout=0.02)
        ctx = weft.with_cancel()
        asyncio.get_running_loop().call_later(0.02, ctx.cancel)
        with pytest.raises(weft.Canceled):
            await ch.recv_async(ctx=ctx)
        ch.close()
        with pytest.raises(weft.Closed):
            await ch.recv_async()
        with pytest.raises(weft.Closed):
            await ch.send_async("x")
    run(main())


def test_cancelling_awaiter_cancels_weft_op(no_leaks):
    ch = weft.Channel()

    async def main():
        waiting = [asyncio.create_task(ch.recv_async()) for _ in range(50)]
        await asyncio.sleep(0.05)
        for t in waiting:
            t.cancel()
        for t in waiting:
            with pytest.raises(asyncio.CancelledError):
                await t
        await asyncio.sleep(0.05)
    run(main())
    # Every cancelled receive was withdrawn: a send now finds no receiver...
    with pytest.raises(weft.WouldBlock):
        ch.try_send("nobody")
    # ...and a value sent afterwards reaches a live receiver.
    got = []
    t = threading.Thread(target=lambda: got.append(ch.recv(timeout=5)))
    t.start()
    ch.send("after", timeout=5)
    t.join(5)
    assert got == ["after"]


def test_cancel_race_loses_nothing(no_leaks):
    """Cancel awaiters while values flow: every value is received exactly once
    by someone (a cancelled receive that already happened puts it back)."""
    ch = weft.Channel(4)
    n = 2000

    async def main():
        got = []

        async def consumer():
            while True:
                try:
                    got.append(await ch.recv_async())
                except weft.Closed:
                    return

        async def chaos():
            # receivers cancelled at random moments
            for _ in range(200):
                t = asyncio.create_task(ch.recv_async())
                await asyncio.sleep(0)
                t.cancel()
                try:
                    got.append(await t)
                except asyncio.CancelledError:
                    pass
        consumers = [asyncio.create_task(consumer()) for _ in range(4)]
        chaos_task = asyncio.create_task(chaos())

        def produce():
            for i in range(n):
                ch.send(i)
        await asyncio.get_running_loop().run_in_executor(None, produce)
        await chaos_task
        await asyncio.sleep(0.2)  # let re-delivered values settle
        ch.close()
        await asyncio.gather(*consumers)
        return got
    got = run(main())
    assert sorted(got) == list(range(n))


def test_wg_mutex_sem_ctx_async():
    async def main():
        wg = weft.WaitGroup()
        wg.add(1)
        loop = asyncio.get_running_loop()
        loop.call_later(0.02, wg.done)
        await wg.wait_async(timeout=5)

        mu = weft.Mutex()
        order = []

        async def locker(i):
            async with mu:
                order.append(i)
                await asyncio.sleep(0.001)
        await asyncio.gather(*(locker(i) for i in range(100)))
        assert sorted(order) == list(range(100))
        assert mu.try_lock()
        t = asyncio.create_task(mu.lock_async())
        await asyncio.sleep(0.02)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        mu.unlock()
        assert mu.try_lock()  # the cancelled lock_async holds nothing
        mu.unlock()

        sem = weft.Semaphore(2)
        await sem.acquire_async(2)
        with pytest.raises(weft.Timeout):
            await sem.acquire_async(1, timeout=0.01)
        sem.release(2)

        ctx = weft.with_timeout(0.03)
        assert isinstance(await ctx.wait_async(), weft.Timeout)
        live = weft.with_cancel()
        with pytest.raises(weft.Timeout):
            await live.wait_async(timeout=0.01)
        assert live.err is None
        with pytest.raises(weft.Deadlock):
            await weft.background().wait_async()
    run(main())


def test_select_async(no_leaks):
    async def main():
        a, b = weft.Channel(), weft.Channel()
        asyncio.get_running_loop().call_later(0.02, lambda: weft.go(b.send, "B"))
        sel = await weft.select_async([a, b], timeout=5)
        assert sel == (1, "B", True)
        with pytest.raises(weft.Timeout):
            await weft.select_async([a, weft.Send(b, "x")], timeout=0.01)
    run(main())


def test_group_wait_async():
    async def main():
        g = weft.Group()
        for _ in range(5):
            g.go(time.sleep, 0.005)
        await g.wait_async()
    run(main())


def test_bridges_die_with_their_loops():
    import gc
    from weft import aio

    async def one():
        ch = weft.Channel(1)
        await ch.send_async(1)
        return await ch.recv_async()
    for _ in range(5):
        assert run(one()) == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # a loop's close releases its bridge
        gc.collect()
        if aio.live_bridges() == 0:
            break
        time.sleep(0.1)
    assert aio.live_bridges() == 0


def test_empty_select_async_waits_until_timeout_or_cancel():
    async def main():
        t0 = time.monotonic()
        with pytest.raises(weft.Timeout):
            await weft.select_async([], timeout=0.05)
        assert time.monotonic() - t0 >= 0.045
        t = asyncio.create_task(weft.select_async([]))
        await asyncio.sleep(0.02)
        assert not t.done()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
    run(main())


def test_no_reader_thread_and_one_eventfd_per_loop():
    from weft import aio

    async def main():
        ch = weft.Channel()
        names = {t.name for t in threading.enumerate()}
        t = asyncio.create_task(ch.recv_async())
        await asyncio.sleep(0.01)
        weft.go(ch.send, "x")
        assert await t == "x"
        b = aio.bridge()
        assert b.fd >= 0 and b.pending == {}
        # no thread was started for the loop (only the go() pool thread)
        new = {t.name for t in threading.enumerate()} - names
        assert all(name.startswith("weft-go") for name in new), new
    run(main())
