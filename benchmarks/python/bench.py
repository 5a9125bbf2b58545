"""Weft's Python binding beside the standard library (and trio), in one run:
every row runs each side RUNS times round-robin; the table shows medians and
the ratio weft / peer (< 1.0: weft is faster). Each workload is written once
and run over two adapters (weft's primitive, the peer's).

  WEFT_LIB=.build/release/libweft.so PYTHONPATH=bindings/python/src \
    python3 benchmarks/python/bench.py [--runs 5] [--quick] [--out RESULTS.md] [ROW ...]
"""
import argparse
import asyncio
import queue
import statistics
import sys
import threading
import time

import weft

SCALE = 1.0


def n(x):
    return max(1, int(x * SCALE))


# ------------------------------------------------------------------ adapters
# A channel adapter makes (send, recv) for a capacity; an event adapter makes
# (wait, fire).


def weft_async_chan(cap):
    ch = weft.Channel(cap)
    return ch.send_async, ch.recv_async


def asyncio_queue(cap):
    q = asyncio.Queue(cap)
    return q.put, q.get


def trio_memory(cap):
    import trio
    tx, rx = trio.open_memory_channel(cap)
    return tx.send, rx.receive


def weft_thread_chan(cap):
    ch = weft.Channel(cap)
    return ch.send, ch.recv


def thread_queue(cap):
    q = queue.Queue(cap)
    return q.put, q.get


def weft_ctx():
    ctx = weft.with_cancel()
    return ctx.wait_async, ctx.cancel


def asyncio_event():
    ev = asyncio.Event()
    return ev.wait, ev.set


def trio_event():
    import trio
    ev = trio.Event()
    return ev.wait, ev.set


# ------------------------------------------------------------------ runners
# An async runner runs main(spawn) where spawn(coro_fn) starts a task and the
# returned awaitable waits for all of them.


def run_asyncio(main):
    async def outer():
        tasks = []

        def spawn(fn, *args):
            tasks.append(asyncio.create_task(fn(*args)))

        async def join():
            await asyncio.gather(*tasks)
        return await main(spawn, join, asyncio.sleep)
    return asyncio.run(outer())


def run_trio(main):
    import trio

    async def outer():
        async with trio.open_nursery() as nursery:
            tasks_done = []

            def spawn(fn, *args):
                async def counted():
                    await fn(*args)
                    tasks_done.append(1)
                nursery.start_soon(counted)
                spawned.append(1)

            async def join():  # wait until every spawned task finished
                while len(tasks_done) < len(spawned):
                    await trio.sleep(0)
            spawned = []
            return await main(spawn, join, trio.sleep)
    return trio.run(outer)


# ------------------------------------------------------------------ workloads


def pingpong(runner, chan):
    rounds = n(20_000)

    async def main(spawn, join, sleep):
        ping_send, ping_recv = chan(1)
        pong_send, pong_recv = chan(1)

        async def echo():
            for _ in range(rounds):
                await pong_send(await ping_recv())
        spawn(echo)
        t0 = time.perf_counter()
        for i in range(rounds):
            await ping_send(i)
            await pong_recv()
        dt = time.perf_counter() - t0
        await join()
        return dt / rounds
    return runner(main)


def concurrent_awaits(runner, chan):
    k = n(10_000)

    async def main(spawn, join, sleep):
        send, recv = chan(0)
        t0 = time.perf_counter()
        for _ in range(k):
            spawn(recv)
        await sleep(0)
        for i in range(k):
            await send(i)
        await join()
        return (time.perf_counter() - t0) / k
    return runner(main)


def wake_all(runner, event):
    k = n(10_000)

    async def main(spawn, join, sleep):
        wait, fire = event()
        t0 = time.perf_counter()
        for _ in range(k):
            spawn(wait)
        await sleep(0)
        fire()
        await join()
        return time.perf_counter() - t0
    return runner(main)


def _threads(producer, consumer):
    t = threading.Thread(target=consumer)
    t0 = time.perf_counter()
    t.start()
    producer()
    t.join()
    return time.perf_counter() - t0


def spsc(chan):
    items = n(200_000)
    send, recv = chan(1024)

    def produce():
        for i in range(items):
            send(i)

    def consume():
        for _ in range(items):
            recv()
    return _threads(produce, consume) / items


def thread_pingpong(chan):
    rounds = n(20_000)
    ping_send, ping_recv = chan(1)
    pong_send, pong_recv = chan(1)

    def main():
        for i in range(rounds):
            ping_send(i)
            pong_recv()

    def echo():
        for _ in range(rounds):
            pong_send(ping_recv())
    return _threads(main, echo) / rounds


def _on(runner, workload):
    return lambda adapter: workload(runner, adapter)


# key: (label, unit, workload(adapter), weft adapter, peer name, peer adapter)
ROWS = {
    "aio_pingpong": ("asyncio ping-pong, Channel(1) vs asyncio.Queue(1)", "µs/round trip",
                     _on(run_asyncio, pingpong), weft_async_chan, "asyncio.Queue(1)", asyncio_queue),
    "aio_10k": ("asyncio 10,000 concurrent awaits (recv) vs asyncio.Queue", "µs/await",
                _on(run_asyncio, concurrent_awaits), weft_async_chan, "asyncio.Queue", asyncio_queue),
    "aio_cancel": ("asyncio 10,000 awaits woken by ctx cancel vs asyncio.Event", "ms total",
                   _on(run_asyncio, wake_all), weft_ctx, "asyncio.Event", asyncio_event),
    "spsc": ("thread→thread Channel(1024) vs queue.Queue(1024)", "µs/item",
             spsc, weft_thread_chan, "queue.Queue(1024)", thread_queue),
    "thread_pingpong": ("thread ping-pong, Channel(1) vs queue.Queue(1)", "µs/round trip",
                        thread_pingpong, weft_thread_chan, "queue.Queue(1)", thread_queue),
    "trio_pingpong": ("trio ping-pong, Channel(1) vs memory channel(1)", "µs/round trip",
                      _on(run_trio, pingpong), weft_async_chan, "trio memory channel(1)", trio_memory),
    "trio_10k": ("trio 10,000 concurrent awaits (recv) vs memory channel", "µs/await",
                 _on(run_trio, concurrent_awaits), weft_async_chan, "trio memory channel(0)", trio_memory),
    "trio_cancel": ("trio 10,000 awaits woken by ctx cancel vs trio.Event", "ms total",
                    _on(run_trio, wake_all), weft_ctx, "trio.Event", trio_event),
}


def main():
    global SCALE
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="a tenth of the work per run")
    ap.add_argument("--out", help="also write the markdown table here")
    ap.add_argument("rows", nargs="*")
    args = ap.parse_args()
    if args.quick:
        SCALE = 0.1
    keys = args.rows or list(ROWS)
    try:
        import trio  # noqa: F401
    except ImportError:
        keys = [k for k in keys if not k.startswith("trio")]
        print("trio not installed: trio rows skipped", file=sys.stderr)
    lines = ["| workload | weft | peer | peer time | weft / peer |", "|---|---|---|---|---|"]
    for key in keys:
        label, unit, workload, weft_side, peer, peer_side = ROWS[key]
        scale = 1e3 if unit.startswith("ms") else 1e6
        w, p = [], []
        for _ in range(args.runs):  # round-robin: both sides see the same machine
            w.append(workload(weft_side) * scale)
            p.append(workload(peer_side) * scale)
        mw, mp = statistics.median(w), statistics.median(p)
        line = "| %s | %.2f %s | %s | %.2f %s | %.2f× |" % (label, mw, unit, peer, mp, unit, mw / mp)
        print(line, flush=True)
        lines.append(line)
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
