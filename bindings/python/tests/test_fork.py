"""fork: in a child forked after the parent used Weft, every weft call raises
weft.Forked at once (the runtime's threads are not in the child: it would
hang); a child that never touches Weft runs normally."""
import asyncio
import multiprocessing
import os
import time

import pytest

import weft

if not hasattr(os, "fork"):
    pytest.skip("no fork", allow_module_level=True)


def _in_child(body):
    """Runs body in a forked child; returns its exit status (10 s at most)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        code = 1
        try:
            code = body()
        finally:
            os.write(w, b"x")
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            os.close(r)
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung")


def test_child_touching_weft_gets_forked_at_once():
    ch = weft.Channel(1)
    ch.send(1)
    weft.go(lambda: None).result(5)
    ctx = weft.with_timeout(1)

    def body():
        t0 = time.monotonic()
        checks = [
            lambda: weft.Channel(),
            lambda: ch.recv(),
            lambda: ch.try_recv(),
            lambda: ctx.wait(timeout=1),
            lambda: weft.sleep(0.01),
            lambda: weft.go(print),
            lambda: weft.after(0.01),
            lambda: asyncio.run(ch.recv_async()),
        ]
        for check in checks:
            try:
                check()
            except weft.Forked as exc:
                assert "fork" in str(exc)
            else:
                return 2
        return 0 if time.monotonic() - t0 < 1 else 3
    assert _in_child(body) == 0
    assert ch.recv(timeout=1) == 1  # the parent is unaffected


def _square(x):
    return x * x


def test_multiprocessing_fork_children_that_do_not_touch_weft_run():
    weft.Channel(4).send("the parent uses weft")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_square, range(20)) == [x * x for x in range(20)]
