"""Ctrl-C: every blocking call from the main thread answers a real SIGINT
within 0.2 s with KeyboardInterrupt, and the interrupted call had no effect.
Each call runs in a child process; the parent sends SIGINT once it blocks."""
import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")

CHILD = r'''
import sys, time, threading
import weft
name = sys.argv[1]
ch = weft.Channel()
mu = weft.Mutex()
rw = weft.RWMutex()
sem = weft.Semaphore(1)
wg = weft.WaitGroup()
cond = weft.Cond()
ctx = weft.with_cancel()

def setup():
    if name == "lock":
        mu.lock()
    elif name in ("rlock", "wlock"):
        rw.lock()
    elif name == "acquire":
        sem.acquire()
    elif name == "wait":
        wg.add(1)
    elif name == "cond":
        cond.mutex.lock()

calls = {
    "recv": lambda: ch.recv(),
    "recv_timeout": lambda: ch.recv(timeout=60),
    "recv_ctx": lambda: ch.recv(ctx=ctx),
    "send": lambda: ch.send("x"),
    "select": lambda: weft.select([ch, weft.Send(weft.Channel(), 1)]),
    "select_empty": lambda: weft.select([]),
    "sleep": lambda: weft.sleep(60),
    "wait": lambda: wg.wait(),
    "lock": lambda: mu.lock(),
    "rlock": lambda: rw.rlock(),
    "wlock": lambda: rw.lock(),
    "acquire": lambda: sem.acquire(),
    "cond": lambda: cond.wait(),
    "ctx_wait": lambda: ctx.wait(),
    "ctx_wait_timeout": lambda: ctx.wait(timeout=60),
}

def no_effect():
    """The interrupted call did nothing."""
    if name.startswith("recv") or name == "select":
        got = []
        threading.Thread(target=lambda: got.append(ch.recv(timeout=2))).start()
        ch.send("later", timeout=2)  # a live receiver, not a stale one, gets it
        time.sleep(0.1)
        assert got == ["later"], got
    elif name == "send":
        assert ch.try_recv(None) is None  # nothing was sent
    elif name == "lock":
        mu.unlock()
        assert mu.try_lock()  # the interrupted lock() holds nothing
    elif name in ("rlock", "wlock"):
        rw.unlock()
        assert rw.try_lock()
    elif name == "acquire":
        sem.release()
        assert sem.try_acquire(1) and not sem.try_acquire(1)  # one unit, not zero or two
    elif name == "wait":
        wg.done()
    elif name == "cond":
        cond.mutex.unlock()  # held again after the interrupted wait, as `with cond:` expects
    elif name.startswith("ctx_wait"):
        assert ctx.err is None

setup()
print("ready", flush=True)
try:
    calls[name]()
except KeyboardInterrupt:
    t = time.monotonic()
    no_effect()
    print("interrupted %.6f" % t, flush=True)
else:
    print("returned", flush=True)
'''

CALLS = ["recv", "recv_timeout", "recv_ctx", "send", "select", "select_empty", "sleep", "wait",
         "lock", "rlock", "wlock", "acquire", "cond", "ctx_wait", "ctx_wait_timeout"]


def _start(name):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", CHILD, name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("batch", [CALLS[i:i + 5] for i in range(0, len(CALLS), 5)],
                         ids=lambda b: ",".join(b))
def test_sigint_interrupts_blocking_calls(batch):
    procs = {name: _start(name) for name in batch}
    try:
        for name, p in procs.items():
            assert p.stdout.readline().strip() == "ready", (name, p.stderr.read())
        time.sleep(0.3)  # blocked by now
        sent = {}
        for name, p in procs.items():
            sent[name] = time.monotonic()
            p.send_signal(signal.SIGINT)
        for name, p in procs.items():
            out, err = p.communicate(timeout=10)
            assert p.returncode == 0 and out.startswith("interrupted"), (name, out, err)
            latency = float(out.split()[1]) - sent[name]
            assert latency < 0.2, "%s answered SIGINT after %.3f s" % (name, latency)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
