"""The same async API under trio and under anyio's two backends; cancel-safe
the trio way (the abort is refused when the operation already completed)."""
import random
import threading

import pytest

import weft
from weft import aio

trio = pytest.importorskip("trio")
anyio = pytest.importorskip("anyio")


async def _send_through(task_group, n):
    """n values through an unbuffered channel to an `async for` consumer."""
    ch = weft.Channel()
    got = []

    async def consumer():
        async for v in ch:
            got.append(v)
    async with task_group() as group:
        group.start_soon(consumer)
        for i in range(n):
            await ch.send_async(i)
        ch.close()
    assert got == list(range(n))


def test_trio_channels_sync_and_contexts(no_leaks):
    async def main():
        await _send_through(trio.open_nursery, 100)

        # fed by a thread: 500 concurrent awaits, no thread per await
        jobs = weft.Channel(16)
        results = []

        async def worker():
            results.append(await jobs.recv_async(timeout=10))
        threads = threading.active_count()
        async with trio.open_nursery() as nursery:
            for _ in range(500):
                nursery.start_soon(worker)
            await trio.sleep(0.01)
            feeder = weft.go(lambda: [jobs.send(i) for i in range(500)])
        feeder.result(10)
        assert sorted(results) == list(range(500))
        assert threading.active_count() <= threads + 1

        with pytest.raises(weft.Timeout):
            await weft.Channel().recv_async(timeout=0.02)
        a, b = weft.Channel(), weft.Channel(1)
        await b.send_async("B")
        assert await weft.select_async([a, b], timeout=5) == (1, "B", True)

        mu = weft.Mutex()
        mu.lock()

        async def unlock_later():
            await trio.sleep(0.01)
            mu.unlock()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(unlock_later)
            await mu.lock_async(timeout=5)
        mu.unlock()
        sem = weft.Semaphore(1)
        await sem.acquire_async()
        with pytest.raises(weft.Timeout):
            await sem.acquire_async(timeout=0.01)
        sem.release()

        ctx = weft.with_timeout(0.02)
        assert isinstance(await ctx.wait_async(), weft.Timeout)
        wg = weft.WaitGroup()
        wg.add(1)
        weft.go(wg.done)
        await wg.wait_async(timeout=5)
        g = weft.Group()
        g.go(lambda: 1)
        assert await g.wait_async() == [1]
    trio.run(main)
    assert aio.live_bridges() == 0  # the run's bridge ended with it


def test_trio_cancel_races_lose_nothing(no_leaks):
    rng = random.Random(6)

    async def main():
        for _ in range(2_000):
            ch = weft.Channel(rng.choice((0, 1, 3)))
            got, sent = [], []

            async def consumer(scope_box):
                with trio.CancelScope() as scope:
                    scope_box.append(scope)
                    try:
                        while True:
                            got.append(await ch.recv_async())
                    except weft.Closed:  # the close won the race: a real completion
                        pass

            async def producer():
                for i in range(rng.randint(1, 4)):
                    try:
                        await ch.send_async(i)
                    except weft.Closed:
                        return
                    sent.append(i)
            box = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(consumer, box)
                nursery.start_soon(producer)
                for _ in range(rng.randint(0, 5)):
                    await trio.sleep(0)
                while not box:
                    await trio.sleep(0)
                box[0].cancel()
                ch.close()
            rest = list(ch)  # closed: the push-back buffer, then what is buffered
            assert got + rest == sent, (got, rest, sent)

        # lock: a cancelled lock_async never leaves the mutex locked by nobody;
        # once the waiter's task ended we know exactly whether it holds it.
        mu = weft.Mutex()
        for _ in range(500):
            mu.lock()
            locked, scopes = [], []

            async def waiter():
                with trio.CancelScope() as scope:
                    scopes.append(scope)
                    await mu.lock_async()
                    locked.append(True)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(waiter)
                for _ in range(rng.randint(0, 3)):
                    await trio.sleep(0)
                while not scopes:
                    await trio.sleep(0)
                if rng.random() < 0.5:
                    mu.unlock()
                    scopes[0].cancel()
                else:
                    scopes[0].cancel()
                    mu.unlock()
            if locked:
                mu.unlock()
            assert mu.try_lock(), "a cancelled lock_async left the mutex locked"
            mu.unlock()
    trio.run(main)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_anyio_both_backends(backend, no_leaks):
    async def main():
        await _send_through(anyio.create_task_group, 50)
        # cancellation through anyio's scopes withdraws the operation
        idle = weft.Channel()
        with anyio.move_on_after(0.02):
            await idle.recv_async()
        with pytest.raises(weft.WouldBlock):
            idle.try_send("nobody is waiting")
        mu = weft.Mutex()
        async with mu:
            pass
        assert mu.try_lock()
        mu.unlock()
    anyio.run(main, backend=backend)
