"""The asyncio bridge: weft operations awaited without one OS thread per await.

Each awaited operation starts through a weft_*_async call: the runtime spawns a
native task that performs the blocking operation and sends a completion
{tag, result} on this event loop's notify channel. ONE reader thread per loop
blocks in weft_chan_recv(notify) (the GIL is released meanwhile), drains what
is there and resolves the futures on the loop through loop.call_soon_threadsafe.
The reader exits after a second with nothing outstanding and starts again with
the next operation.

Every operation gets its own weft context (a child of the caller's ctx, with
the caller's timeout); cancelling the awaiting asyncio task cancels that
context, so the weft operation is withdrawn. If it had already completed, the
effect is undone: a received object goes back into its channel, a lock or
semaphore units are given back.
"""
import asyncio
import itertools
import threading
import weakref
from ctypes import byref, c_int64, c_void_p

from . import _core, _ffi
from .errors import error

lib = _ffi.lib

NOTIFY_CAPACITY = 4096
BATCH = 256
IDLE_SECONDS = 1.0


class _Op:
    __slots__ = ("future", "ctx", "finish", "undo", "keep")

    def __init__(self, future, ctx, finish, undo, keep):
        self.future = future
        self.ctx = ctx
        self.finish = finish
        self.undo = undo
        self.keep = keep  # buffers and objects that must outlive the operation

    def on_future_done(self, future):
        if future.cancelled() and self.ctx is not None:
            lib.weft_ctx_cancel(self.ctx)


class _Bridge:
    def __init__(self, loop):
        # Weakly: _bridges is keyed weakly by the loop, a strong reference here
        # would keep every closed loop (and its bridge) alive.
        self._loop = weakref.ref(loop)
        out = c_void_p()
        rc = lib.weft_chan_make(_ffi.ctypes.sizeof(_ffi.weft_completion), NOTIFY_CAPACITY, byref(out))
        if rc < 0:
            raise error(rc)
        self.notify = out.value
        self.pending = {}
        self.lock = threading.Lock()
        self.outstanding = 0   # started, completion not yet read from notify
        self.running = False
        self.tags = itertools.count(1)

    def __del__(self):
        try:
            lib.weft_chan_release(self.notify)
        except Exception:
            pass

    # ------------------------------------------------------------ start

    def start(self, start, finish, undo=None, ctx=None, timeout=None, keep=None, future=True):
        """Starts one operation: start(op_ctx, notify, tag) -> rc. Returns the
        asyncio future (None with future=False: fire and forget)."""
        parent = None if ctx is None else ctx.handle
        op_ctx = c_void_p()
        if timeout is not None:
            rc = lib.weft_ctx_with_timeout(parent, _core.seconds_to_ns(max(timeout, 0)), byref(op_ctx))
        else:
            rc = lib.weft_ctx_with_cancel(parent, byref(op_ctx))
        if rc < 0:
            raise error(rc)
        fut = self._loop().create_future() if future else None
        op = _Op(fut, op_ctx.value, finish, undo, keep)
        tag = next(self.tags)
        with self.lock:
            self.pending[tag] = op
            self.outstanding += 1
            spawn_reader = not self.running
            self.running = True
        if spawn_reader:
            threading.Thread(target=self._read, name="weft-asyncio", daemon=True).start()
        failure = None
        try:
            rc = start(op.ctx, self.notify, tag)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            rc, failure = None, exc
        if rc is None or rc < 0:
            with self.lock:
                del self.pending[tag]
                self.outstanding -= 1
            lib.weft_ctx_release(op.ctx)
            raise failure if failure is not None else error(rc)
        if fut is not None:
            fut.add_done_callback(op.on_future_done)
        return fut

    # ------------------------------------------------------------ reader thread

    def _read(self):
        buf = (_ffi.weft_completion * BATCH)()
        notify = self.notify
        while True:
            rc = lib.weft_chan_recv_until(notify, byref(buf, 0), lib.weft_now_ns() + int(IDLE_SECONDS * 1e9))
            if rc == _ffi.ETIMEDOUT:
                with self.lock:
                    if self.outstanding == 0:
                        self.running = False
                        return
                continue
            if rc < 0:  # shutdown
                with self.lock:
                    self.running = False
                return
            n = 1
            size = _ffi.ctypes.sizeof(_ffi.weft_completion)
            while n < BATCH and lib.weft_chan_try_recv(notify, byref(buf, n * size)) == 0:
                n += 1
            items = [(buf[i].tag, buf[i].result) for i in range(n)]
            with self.lock:
                self.outstanding -= n
            loop = self._loop()
            try:
                if loop is None:
                    raise RuntimeError("loop gone")
                loop.call_soon_threadsafe(self._dispatch, items)
            except RuntimeError:  # the loop is closed: nobody awaits these
                self._dispatch(items, dead=True)
            del loop

    # ------------------------------------------------------------ loop thread

    def _dispatch(self, items, dead=False):
        for tag, result in items:
            with self.lock:
                op = self.pending.pop(tag, None)
            if op is None:
                continue
            lib.weft_ctx_release(op.ctx)
            op.ctx = None
            fut = op.future
            try:
                if fut is None or fut.done() or dead:
                    if op.undo is not None:
                        op.undo(result)
                    continue
                value = op.finish(result)
            except BaseException as exc:  # noqa: BLE001 - delivered to the awaiter
                if fut is not None and not fut.done() and not dead:
                    fut.set_exception(exc)
            else:
                fut.set_result(value)


_bridges = weakref.WeakKeyDictionary()
_bridges_lock = threading.Lock()


def live_bridges():
    """How many event loops have a bridge (for leak checks)."""
    with _bridges_lock:
        return len(_bridges)


def bridge(loop=None):
    """The bridge of the running loop (made on first use)."""
    if loop is None:
        loop = asyncio.get_running_loop()
    with _bridges_lock:
        b = _bridges.get(loop)
        if b is None:
            b = _bridges[loop] = _Bridge(loop)
        return b


# ------------------------------------------------------------------ operations


def _redeliver(b, ch, buf):
    """Puts a received value back into its channel (its awaiter was cancelled
    after the receive happened): nothing is lost."""
    if ch._h is None:
        if ch._kind == "object":
            _core.drop(buf.value)
        return

    def failed(result):
        if result < 0 and ch._kind == "object":
            _core.drop(buf.value)
    b.start(lambda c, n, t: lib.weft_chan_send_async(ch.handle, byref(buf), None, n, t),
            None, failed, keep=(ch, buf), future=False)


async def chan_recv(ch, timeout, ctx):
    b = bridge()
    buf = ch._out()
    ref = None if buf is None else byref(buf)

    def finish(result):
        if result < 0:
            raise error(result)
        return ch._decode(buf)

    def undo(result):
        if result == 0 and buf is not None:
            _redeliver(b, ch, buf)

    return await b.start(lambda c, n, t: lib.weft_chan_recv_async(ch.handle, ref, c, n, t),
                         finish, undo, ctx, timeout, keep=(ch, buf))


async def chan_send(ch, value, timeout, ctx):
    b = bridge()
    buf, token = ch._encode(value)
    ref = None if buf is None else byref(buf)

    def finish(result):
        if result < 0:
            undo(result)
            raise error(result)

    def undo(result):
        if result < 0 and token is not None:
            _core.drop(token)

    try:
        fut = b.start(lambda c, n, t: lib.weft_chan_send_async(ch.handle, ref, c, n, t),
                      finish, undo, ctx, timeout, keep=(ch, buf))
    except BaseException:
        undo(-1)
        raise
    return await fut


async def select(call, timeout, ctx):
    b = bridge()

    def finish(result):
        return call.finish(result)

    def undo(result):
        back = call.undo(result)
        if back is not None:
            _redeliver(b, *back)

    try:
        fut = b.start(lambda c, n, t: lib.weft_select_async(call.array, call.n, c, n, t),
                      finish, undo, ctx, timeout, keep=call)
    except BaseException:
        call.drop_tokens()
        raise
    return await fut


def _checked(result):
    if result < 0:
        raise error(result)


async def wg_wait(wg, timeout, ctx):
    return await bridge().start(lambda c, n, t: lib.weft_wg_wait_async(wg.handle, c, n, t),
                                _checked, None, ctx, timeout, keep=wg)


async def mutex_lock(mu, timeout, ctx):
    def undo(result):
        if result == 0:
            mu.unlock()
    return await bridge().start(lambda c, n, t: lib.weft_mutex_lock_async(mu.handle, c, n, t),
                                _checked, undo, ctx, timeout, keep=mu)


async def sem_acquire(sem, count, timeout, ctx):
    def undo(result):
        if result == 0:
            sem.release(count)
    return await bridge().start(lambda c, n, t: lib.weft_sem_acquire_async(sem.handle, count, c, n, t),
                                _checked, undo, ctx, timeout, keep=sem)


async def ctx_wait(target, timeout, ctx=None):
    # The operation's own context is a child of target: it ends when target
    # does, when the timeout passes, or when the awaiter is cancelled.
    def finish(result):
        err = target.err
        if err is None:
            raise error(result if result < 0 else _ffi.ETIMEDOUT)
        return err
    if timeout is None and not lib.weft_ctx_done(target.handle):
        raise error(_ffi.EDEADLK)  # background: never done
    return await bridge().start(lambda c, n, t: lib.weft_ctx_wait_async(c, n, t),
                                finish, None, target, timeout, keep=target)
