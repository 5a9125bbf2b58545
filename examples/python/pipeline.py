"""A three-stage pipeline on Python threads joined by weft channels (Go's
"pipelines and cancellation" pattern): generate -> square (fan-out to N
workers) -> sum (fan-in), with a WaitGroup closing the results channel and a
context that stops the generator early on Ctrl-C.

  PYTHONPATH=bindings/python/src WEFT_LIB=.build/release/libweft.so \
    python3 examples/python/pipeline.py [--short]
"""
import sys
import time

import weft


def generate(ctx: weft.Context, out: weft.Channel[int], n: int) -> None:
    try:
        for i in range(1, n + 1):
            out.send(i, ctx=ctx)  # Canceled if ctx ends while we wait
    except weft.Canceled:
        pass
    finally:
        out.close()


def square(inp: weft.Channel[int], out: weft.Channel[int]) -> None:
    for v in inp:  # until inp is closed and drained
        out.send(v * v)


def main() -> int:
    n = 2_000 if "--short" in sys.argv else 100_000
    workers = 8
    t0 = time.monotonic()
    with weft.with_signals() as ctx:  # SIGINT/SIGTERM cancel the pipeline
        numbers: weft.Channel[int] = weft.Channel(64)
        squares: weft.Channel[int] = weft.Channel(64)
        weft.go(generate, ctx, numbers, n)
        wg = weft.WaitGroup()
        for _ in range(workers):
            wg.go(square, numbers, squares)
        def close_when_done() -> None:
            wg.wait()
            squares.close()
        weft.go(close_when_done)
        total = sum(squares)
    expected = n * (n + 1) * (2 * n + 1) // 6
    dt = time.monotonic() - t0
    print("sum of squares 1..%d = %d through %d workers in %.2fs (%.0f items/s)"
          % (n, total, workers, dt, 2 * n / dt))
    if total != expected:
        print("MISMATCH: expected", expected)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
