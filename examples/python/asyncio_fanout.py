"""The asyncio bridge at scale: 10,000 concurrent awaits in one event loop, fed
by a plain thread through a weft channel, all under a context with a timeout.
No OS thread per await, no reader thread: the loop watches the runtime's
completion eventfd and wakes the awaiters in batches.

Phase 1: 10,000 asyncio tasks each `await jobs.recv_async(ctx=ctx)`; a thread
  sends the jobs; each task answers on `results` with send_async; the main
  coroutine collects them with `async for`.
Phase 2: 1,000 tasks await a channel nobody feeds; the context's timeout
  cancels every one of them (weft.Timeout), and nothing leaks.

  PYTHONPATH=bindings/python/src WEFT_LIB=.build/release/libweft.so \
    python3 examples/python/asyncio_fanout.py [--short]
"""
import asyncio
import sys
import threading
import time
from typing import Tuple

import weft


async def phase1(n: int) -> int:
    jobs: weft.Channel[int] = weft.Channel(256)
    results: weft.Channel[Tuple[int, int]] = weft.Channel(256)
    with weft.with_timeout(30) as ctx:
        async def worker() -> None:
            job = await jobs.recv_async(ctx=ctx)
            await results.send_async((job, job * 2), ctx=ctx)

        tasks = [asyncio.create_task(worker()) for _ in range(n)]
        await asyncio.sleep(0)  # let them all start awaiting

        def feed() -> None:
            for i in range(n):
                jobs.send(i, ctx=ctx)
        feeder = weft.go(feed)
        threads = threading.active_count()
        total = count = 0
        async for job, doubled in results:
            assert doubled == job * 2
            total += doubled
            count += 1
            if count == n:
                break
        await asyncio.gather(*tasks)
        feeder.result(10)
    assert total == n * (n - 1), total
    return threads


async def phase2(n: int, timeout: float) -> int:
    never: weft.Channel[int] = weft.Channel()
    with weft.with_timeout(timeout) as ctx:
        outcomes = await asyncio.gather(*(never.recv_async(ctx=ctx) for _ in range(n)),
                                        return_exceptions=True)
    timeouts = sum(isinstance(o, weft.Timeout) for o in outcomes)
    return timeouts


def main() -> int:
    short = "--short" in sys.argv
    n = 10_000
    t0 = time.monotonic()
    threads = asyncio.run(phase1(n))
    t1 = time.monotonic()
    print("phase 1: %d concurrent awaits resolved in %.2fs (%d Python threads alive)"
          % (n, t1 - t0, threads))
    timeouts = asyncio.run(phase2(1_000, 0.05 if short else 0.5))
    print("phase 2: %d of 1000 awaits ended by the context's timeout in %.2fs"
          % (timeouts, time.monotonic() - t1))
    leaked = weft.registry_size()
    if timeouts != 1000 or leaked:
        print("FAILED: timeouts=%d leaked=%d" % (timeouts, leaked))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
