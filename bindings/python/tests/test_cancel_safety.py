"""Cancel safety by construction: an awaited operation the runtime completed
is never dropped. 10,000 random races between a completion and a cancel
(buffered and unbuffered channels, the channel closed right after the cancel),
then locks and semaphores: zero lost, zero duplicated, order kept, no lock
held by nobody, no unit leaked."""
import asyncio
import random

import weft
from weft import aio

TRIALS = 10_000


async def _settle(b):
    """Waits until every started operation's completion came back."""
    for _ in range(10_000):
        if not b.pending:
            return
        await asyncio.sleep(0.0005 if _ % 10 == 9 else 0)
    raise AssertionError("completions still pending: %d" % len(b.pending))


async def _delay(rng):
    r = rng.random()
    if r < 0.05:
        await asyncio.sleep(rng.random() * 0.0005)
    else:
        for _ in range(rng.randint(0, 6)):
            await asyncio.sleep(0)


async def _channel_trial(rng, b):
    cap = rng.choice((0, 0, 1, 3))
    ch = weft.Channel(cap)
    got, sent = [], []

    async def consumer():
        while True:
            got.append(await ch.recv_async())

    async def producer():  # values handed over on the loop
        for i in range(count):
            try:
                await ch.send_async(i)
            except weft.Closed:
                return
            sent.append(i)
            if rng.random() < 0.5:
                await asyncio.sleep(0)

    def thread_producer():  # values through the runtime, from another thread
        for i in range(count):
            try:
                ch.send(i)
            except weft.Closed:
                return
            sent.append(i)

    count = rng.randint(1, 5)
    c = asyncio.create_task(consumer())
    threaded = rng.random() < 0.5
    if threaded:
        p = asyncio.wrap_future(weft.go(thread_producer))
    else:
        p = asyncio.create_task(producer())
    await _delay(rng)
    c.cancel()
    ch.close()  # right after the cancel
    try:
        await c
    except asyncio.CancelledError:
        pass
    await p
    await _settle(b)
    rest = list(ch)  # closed: the push-back buffer, then what is buffered
    received = got + rest
    # nothing lost, nothing duplicated, the order kept
    assert received == sent, (cap, got, rest, sent)
    ch.release()


def test_10000_cancel_races_on_channels_lose_nothing(no_leaks):
    rng = random.Random(8)
    before = dict(aio.undo_counts)

    async def main():
        b = aio.bridge()
        for _ in range(TRIALS):
            await _channel_trial(rng, b)
    asyncio.run(main())
    # both undo paths were really exercised
    assert aio.undo_counts["at_cancel"] > before["at_cancel"]
    assert aio.undo_counts["on_arrival"] > before["on_arrival"]


def test_cancel_races_on_locks_and_semaphores_leak_nothing():
    rng = random.Random(9)

    async def main():
        b = aio.bridge()
        mu = weft.Mutex()
        sem = weft.Semaphore(3)
        for i in range(1_000):
            # lock: held by a holder, awaited, cancelled at a random moment
            assert mu.try_lock()
            t = asyncio.create_task(mu.lock_async())
            await asyncio.sleep(0)
            asyncio.get_running_loop().call_soon(mu.unlock)
            await _delay(rng)
            t.cancel()
            try:
                await t
                mu.unlock()  # it got the lock: ours to give back
            except asyncio.CancelledError:
                pass
            await _settle(b)
            assert mu.try_lock(), "a cancelled lock_async left the mutex locked (trial %d)" % i
            mu.unlock()
            # semaphore: all units taken, waiters for 1..3 units, cancelled
            n = rng.randint(1, 3)
            await sem.acquire_async(3)
            t = asyncio.create_task(sem.acquire_async(n))
            await asyncio.sleep(0)
            asyncio.get_running_loop().call_soon(sem.release, 3)
            await _delay(rng)
            t.cancel()
            try:
                await t
                sem.release(n)
            except asyncio.CancelledError:
                pass
            await _settle(b)
            assert sem.try_acquire(3), "units leaked (trial %d)" % i
            sem.release(3)
    asyncio.run(main())


def test_cancelled_select_puts_the_value_back(no_leaks):
    async def main():
        b = aio.bridge()
        a, c = weft.Channel(), weft.Channel()
        lost = 0
        for i in range(500):
            t = asyncio.create_task(weft.select_async([a, c]))
            await asyncio.sleep(0)
            await a.send_async(i)
            t.cancel()
            try:
                sel = await t
                assert sel.value == i
            except asyncio.CancelledError:
                await _settle(b)
                if a.try_recv(None) != i:
                    lost += 1
        assert lost == 0
    asyncio.run(main())
