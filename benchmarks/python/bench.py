"""Weft's Python binding beside the standard library (and trio), in one run:
every row runs each side RUNS times round-robin; the table shows medians and
the ratio weft / peer (< 1.0: weft is faster).

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


# ------------------------------------------------------------------ asyncio


def aio_pingpong_weft():
    rounds = n(20_000)

    async def main():
        ping, pong = weft.Channel(1), weft.Channel(1)

        async def echo():
            for _ in range(rounds):
                await pong.send_async(await ping.recv_async())
        t = asyncio.create_task(echo())
        t0 = time.perf_counter()
        for i in range(rounds):
            await ping.send_async(i)
            await pong.recv_async()
        dt = time.perf_counter() - t0
        await t
        return dt / rounds
    return asyncio.run(main())


def aio_pingpong_queue():
    rounds = n(20_000)

    async def main():
        ping, pong = asyncio.Queue(1), asyncio.Queue(1)

        async def echo():
            for _ in range(rounds):
                await pong.put(await ping.get())
        t = asyncio.create_task(echo())
        t0 = time.perf_counter()
        for i in range(rounds):
            await ping.put(i)
            await pong.get()
        dt = time.perf_counter() - t0
        await t
        return dt / rounds
    return asyncio.run(main())


def aio_10k_weft():
    k = n(10_000)

    async def main():
        ch = weft.Channel()
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(ch.recv_async()) for _ in range(k)]
        await asyncio.sleep(0)
        for i in range(k):
            await ch.send_async(i)
        await asyncio.gather(*tasks)
        return (time.perf_counter() - t0) / k
    return asyncio.run(main())


def aio_10k_queue():
    k = n(10_000)

    async def main():
        q = asyncio.Queue()
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(q.get()) for _ in range(k)]
        await asyncio.sleep(0)
        for i in range(k):
            await q.put(i)
        await asyncio.gather(*tasks)
        return (time.perf_counter() - t0) / k
    return asyncio.run(main())


def aio_cancel_weft():
    k = n(10_000)

    async def main():
        ctx = weft.with_cancel()
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(ctx.wait_async()) for _ in range(k)]
        await asyncio.sleep(0)
        ctx.cancel()
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0
    return asyncio.run(main())


def aio_cancel_event():
    k = n(10_000)

    async def main():
        ev = asyncio.Event()
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(ev.wait()) for _ in range(k)]
        await asyncio.sleep(0)
        ev.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0
    return asyncio.run(main())


# ------------------------------------------------------------------ threads


def _threads(producer, consumer):
    t = threading.Thread(target=consumer)
    t0 = time.perf_counter()
    t.start()
    producer()
    t.join()
    return time.perf_counter() - t0


def spsc_weft():
    items = n(200_000)
    ch = weft.Channel(1024)

    def produce():
        for i in range(items):
            ch.send(i)

    def consume():
        for _ in range(items):
            ch.recv()
    return _threads(produce, consume) / items


def spsc_queue():
    items = n(200_000)
    q = queue.Queue(1024)

    def produce():
        for i in range(items):
            q.put(i)

    def consume():
        for _ in range(items):
            q.get()
    return _threads(produce, consume) / items


def thread_pingpong_weft():
    rounds = n(20_000)
    ping, pong = weft.Channel(1), weft.Channel(1)

    def main():
        for i in range(rounds):
            ping.send(i)
            pong.recv()

    def echo():
        for _ in range(rounds):
            pong.send(ping.recv())
    return _threads(main, echo) / rounds


def thread_pingpong_queue():
    rounds = n(20_000)
    ping, pong = queue.Queue(1), queue.Queue(1)

    def main():
        for i in range(rounds):
            ping.put(i)
            pong.get()

    def echo():
        for _ in range(rounds):
            pong.put(ping.get())
    return _threads(main, echo) / rounds


# ------------------------------------------------------------------ trio


def trio_pingpong_weft():
    import trio
    rounds = n(20_000)

    async def main():
        ping, pong = weft.Channel(1), weft.Channel(1)

        async def echo():
            for _ in range(rounds):
                await pong.send_async(await ping.recv_async())
        async with trio.open_nursery() as nursery:
            nursery.start_soon(echo)
            t0 = time.perf_counter()
            for i in range(rounds):
                await ping.send_async(i)
                await pong.recv_async()
            dt = time.perf_counter() - t0
        return dt / rounds
    return trio.run(main)


def trio_pingpong_memory():
    import trio
    rounds = n(20_000)

    async def main():
        ping_tx, ping_rx = trio.open_memory_channel(1)
        pong_tx, pong_rx = trio.open_memory_channel(1)

        async def echo():
            for _ in range(rounds):
                await pong_tx.send(await ping_rx.receive())
        async with trio.open_nursery() as nursery:
            nursery.start_soon(echo)
            t0 = time.perf_counter()
            for i in range(rounds):
                await ping_tx.send(i)
                await pong_rx.receive()
            dt = time.perf_counter() - t0
        return dt / rounds
    return trio.run(main)


def trio_10k_weft():
    import trio
    k = n(10_000)

    async def main():
        ch = weft.Channel()
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(k):
                nursery.start_soon(ch.recv_async)
            await trio.sleep(0)
            for i in range(k):
                await ch.send_async(i)
        return (time.perf_counter() - t0) / k
    return trio.run(main)


def trio_10k_memory():
    import trio
    k = n(10_000)

    async def main():
        tx, rx = trio.open_memory_channel(0)
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(k):
                nursery.start_soon(rx.receive)
            await trio.sleep(0)
            for i in range(k):
                await tx.send(i)
        return (time.perf_counter() - t0) / k
    return trio.run(main)


def trio_cancel_weft():
    import trio
    k = n(10_000)

    async def main():
        ctx = weft.with_cancel()
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(k):
                nursery.start_soon(ctx.wait_async)
            await trio.sleep(0)
            ctx.cancel()
        return time.perf_counter() - t0
    return trio.run(main)


def trio_cancel_event():
    import trio
    k = n(10_000)

    async def main():
        ev = trio.Event()
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(k):
                nursery.start_soon(ev.wait)
            await trio.sleep(0)
            ev.set()
        return time.perf_counter() - t0
    return trio.run(main)


# key: (label, unit, weft fn, peer name, peer fn, target ratio)
ROWS = {
    "aio_pingpong": ("asyncio ping-pong, Channel(1) vs asyncio.Queue(1)", "µs/round trip",
                     aio_pingpong_weft, "asyncio.Queue(1)", aio_pingpong_queue),
    "aio_10k": ("asyncio 10,000 concurrent awaits (recv) vs asyncio.Queue", "µs/await",
                aio_10k_weft, "asyncio.Queue", aio_10k_queue),
    "aio_cancel": ("asyncio 10,000 awaits woken by ctx cancel vs asyncio.Event", "ms total",
                   aio_cancel_weft, "asyncio.Event", aio_cancel_event),
    "spsc": ("thread→thread Channel(1024) vs queue.Queue(1024)", "µs/item",
             spsc_weft, "queue.Queue(1024)", spsc_queue),
    "thread_pingpong": ("thread ping-pong, Channel(1) vs queue.Queue(1)", "µs/round trip",
                        thread_pingpong_weft, "queue.Queue(1)", thread_pingpong_queue),
    "trio_pingpong": ("trio ping-pong, Channel(1) vs memory channel(1)", "µs/round trip",
                      trio_pingpong_weft, "trio memory channel(1)", trio_pingpong_memory),
    "trio_10k": ("trio 10,000 concurrent awaits (recv) vs memory channel", "µs/await",
                 trio_10k_weft, "trio memory channel(0)", trio_10k_memory),
    "trio_cancel": ("trio 10,000 awaits woken by ctx cancel vs trio.Event", "ms total",
                    trio_cancel_weft, "trio.Event", trio_cancel_event),
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
        label, unit, wfn, peer, pfn = ROWS[key]
        scale = 1e3 if unit.startswith("ms") else 1e6
        w, p = [], []
        for _ in range(args.runs):  # round-robin: both sides see the same machine
            w.append(wfn() * scale)
            p.append(pfn() * scale)
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
