"""The event-loop bridge (asyncio, trio, anyio on either): weft operations
awaited without a thread per await and without a reader thread.

Path of one awaited operation:
 1. The non-blocking form first (try_recv, try_lock, ...), on the loop thread
    with the GIL kept: a ready operation completes at once, no hop.
 1b. Channels: a local waiter. A receive (send) that would wait is first
    served by a send (receive) of another coroutine on the same loop, which
    hands the value over directly; the waiter starts in the runtime only once
    the loop has nothing else to run (or after DEFER_ROUNDS passes). Every
    awaiter of one context on a loop shares one runtime wait (_Fanout).
 2. Otherwise weft_*_async starts it: a runtime task performs it and sends a
    completion {tag, result} on this loop's notify channel, then signals the
    notify channel's eventfd (weft_async_fd). The loop watches that fd
    (asyncio add_reader; trio wait_readable in a system task) and drains the
    completions in batches (weft_async_poll), waking each awaiter.
 3. No per-operation context: cancellation withdraws the operation by tag
    (weft_async_cancel), a timeout is a loop timer that does the same.

Cancel safety, by construction: an operation the runtime completed is never
dropped. The awaiter receives the raw result code and decodes it itself, so:
 - asyncio: a cancelled awaiter whose completion already arrived undoes it at
   once; one whose completion arrives later undoes it on arrival. Undo: a
   received value goes to the channel's push-back buffer (the next receive
   takes it first, in order: no re-send), a lock is unlocked, units are put
   back, unsent objects leave the registry.
 - trio: the abort function withdraws the operation and refuses the abort
   (Abort.FAILED); the task is rescheduled with the completion: the value if
   the operation happened (the cancellation then comes at the next
   checkpoint), Cancelled if it was withdrawn.

Python code runs only on the loop's thread; the runtime never calls back.
"""
from __future__ import annotations

import asyncio
import itertools
import sys
import weakref
from collections import deque
from ctypes import addressof, byref, c_int64, c_void_p, sizeof
from typing import Any, Callable, Dict, List, Optional, Tuple

Starter = Callable[[Optional[int], int, int], int]
Undo = Optional[Callable[[int], None]]

from . import _core, _ffi
from .errors import error

lib = _ffi.lib
plib = _ffi.plib

NOTIFY_CAPACITY = 4096
BATCH = 256

_OK = 0
_SIGNAL = "signal"
_EAGAIN = _ffi.EAGAIN
_ECANCELED = _ffi.ECANCELED
_ETIMEDOUT = _ffi.ETIMEDOUT

_live: "weakref.WeakSet[_Bridge]" = weakref.WeakSet()

# Operations still pending when their loop closed: kept forever (see close).
_orphans: List[Any] = []

# How often each undo path ran (tests check the races were really hit).
undo_counts = {"at_cancel": 0, "on_arrival": 0}


def live_bridges() -> int:
    """How many event loops (or trio runs) have a bridge (for leak checks)."""
    return len(_live)


class _Op:
    """One operation: the awaiter's future (asyncio) or task (trio); for a
    channel operation waiting on the loop before its runtime start, the local
    waiter list it is in (local). Subclasses say how to try it without
    waiting (try_fn), start it (starter) and undo a completion nobody will
    take (undo)."""
    __slots__ = ("fut", "timer", "timed_out", "task", "raise_cancel", "tag", "local",
                 "box_round", "ctx", "__weakref__")

    def __init__(self) -> None:
        self.fut: Any = None
        self.timer: Any = None
        self.timed_out = False
        self.task: Any = None
        self.raise_cancel: Any = None
        self.tag = 0          # 0: not started in the runtime
        self.local: Any = None
        self.box_round = 0
        self.ctx: Optional[int] = None

    def try_fn(self) -> int:
        return _EAGAIN

    def starter(self, ctx: Optional[int], notify: int, tag: int) -> int:
        raise NotImplementedError

    def undo(self, result: int) -> None:
        pass


class _FnOp(_Op):
    """An operation given as functions (wg, mutex, semaphore, select, ctx)."""
    __slots__ = ("_starter", "_undo", "keep")

    def __init__(self, starter: Starter, undo: Undo, keep: Any) -> None:
        super().__init__()
        self._starter = starter
        self._undo = undo
        self.keep = keep  # buffers and objects that must outlive the operation

    def starter(self, ctx: Optional[int], notify: int, tag: int) -> int:
        return self._starter(ctx, notify, tag)

    def undo(self, result: int) -> None:
        if self._undo is not None:
            self._undo(result)


class _RecvOp(_Op):
    """A channel receive; its buffer is made only when the runtime needs it."""
    __slots__ = ("ch", "h", "buf", "addr", "value")

    def __init__(self, ch: Any, h: int) -> None:
        super().__init__()
        self.ch = ch
        self.h = h
        self.buf: Any = None
        self.addr: Optional[int] = None
        self.value: Any = None  # handed over by a local sender

    def _prepare(self) -> None:
        if self.buf is None and self.ch._kind != _SIGNAL:
            self.buf = c_int64()
            self.addr = addressof(self.buf)

    def try_fn(self) -> int:
        self._prepare()
        return plib.weft_chan_try_recv(self.h, self.addr)

    def starter(self, ctx: Optional[int], notify: int, tag: int) -> int:
        self._prepare()
        return plib.weft_chan_recv_async(self.h, self.addr, ctx, notify, tag)

    def result(self, rc: int) -> Any:
        if rc == HANDED:
            return self.value
        if rc < 0:
            raise error(rc)
        return self.ch._decode(self.buf)

    def undo(self, result: int) -> None:
        if result == _OK or result == HANDED:  # received for nobody: first in line
            self.ch._push_back(self.result(result))


class _SendOp(_Op):
    """A channel send; the object enters the registry only when the runtime
    needs it (a local receiver takes it directly)."""
    __slots__ = ("ch", "h", "value", "buf", "addr", "token")

    def __init__(self, ch: Any, h: int, value: Any) -> None:
        super().__init__()
        self.ch = ch
        self.h = h
        self.value = value
        self.buf: Any = None
        self.addr: Optional[int] = None
        self.token: Optional[int] = None

    def _prepare(self) -> None:
        if self.buf is None and self.ch._kind != _SIGNAL:
            self.buf, self.token = self.ch._encode(self.value)
            self.addr = addressof(self.buf)

    def try_fn(self) -> int:
        self._prepare()
        return plib.weft_chan_try_send(self.h, self.addr)

    def starter(self, ctx: Optional[int], notify: int, tag: int) -> int:
        self._prepare()
        return plib.weft_chan_send_async(self.h, self.addr, ctx, notify, tag)

    def undo(self, result: int) -> None:
        """Not sent through the runtime (failed, or handed to a local
        receiver): the registry lets go of the object. A send that happened
        stays sent."""
        if result != _OK and self.token is not None:
            _core.drop(self.token)
            self.token = None


# A local waiter's result when a coroutine of the same loop handed it the value
# (receive) or took its value (send): the runtime never saw the operation.
HANDED = 1
DEFER_ROUNDS = 8


def _gone(op: _Op) -> bool:
    """No longer a local waiter. An asyncio future is cancelled at once by
    Task.cancel(), before the awaiter's coroutine runs its except clause."""
    if op.local is None:
        return True
    if op.fut is not None and op.fut.done():
        op.local = None
        return True
    return False


def pop_local(waiters: Any, b: Any) -> Any:
    """The oldest live local waiter of bridge b in waiters (dead ones dropped)."""
    while waiters:
        op = waiters[0]
        if _gone(op):  # started, served, cancelled or timed out
            waiters.popleft()
            continue
        if op.local[1] is not b:
            return None  # another loop's waiter first: no local handoff
        waiters.popleft()
        op.local = None
        return op
    return None


class _Bridge:
    """One notify channel, its eventfd and the pending operations by tag."""

    def __init__(self) -> None:
        out = c_void_p()
        rc = lib.weft_chan_make(sizeof(_ffi.weft_completion), NOTIFY_CAPACITY, byref(out))
        if rc < 0:
            raise error(rc)
        assert out.value is not None
        self.notify: int = out.value
        self.fd = plib.weft_async_fd(self.notify)
        if self.fd < 0:
            lib.weft_chan_release(self.notify)
            raise error(self.fd)
        self.pending: Dict[int, _Op] = {}
        self.tags = itertools.count(1)
        self.deferred: Any = deque()  # local waiters to start in the runtime
        self.rounds = 0
        self.buf = (_ffi.weft_completion * BATCH)()
        self.buf_addr = addressof(self.buf)
        # For the non-blocking forms on the loop thread (only it uses them).
        self.tmp = c_int64()
        self.tmp_addr = addressof(self.tmp)
        self.checkpoint: Optional[Callable[[], Any]] = None  # trio: after a fast path
        _live.add(self)

    def close(self) -> None:
        """The loop is gone: completions still coming are dropped (closing
        notify makes their tasks give up), their undo runs now where it can."""
        notify, self.notify = self.notify, 0
        if not notify:
            return
        plib.weft_chan_close(notify)
        for tag in list(self.pending):
            plib.weft_async_cancel(notify, tag)
        # A withdrawn operation may still be finishing in the runtime, writing
        # into its buffer: those buffers must outlive us (a few bytes each).
        _orphans.extend(self.pending.values())
        self.pending = {}
        lib.weft_chan_release(notify)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown or forked child
            pass

    def start(self, ctx: Optional[int], op: _Op) -> int:
        """op.starter(ctx, notify, tag) -> rc; registers op under its tag.
        Returns the tag, or the negative code when nothing was started."""
        tag = next(self.tags)
        rc = op.starter(ctx, self.notify, tag)
        if rc < 0:
            return rc
        self.pending[tag] = op
        return tag

    def defer(self, op: _Op, local: Any, ctx: Optional[int]) -> None:
        """op waits on the loop as a local waiter of a channel (in local)."""
        op.local = (local, self)
        op.ctx = ctx
        op.box_round = self.rounds
        local.append(op)
        self.deferred.append(op)

    def start_deferred(self, busy: bool) -> bool:
        """Starts the local waiters in the runtime: all of them when the loop
        has nothing else to run, else those that waited DEFER_ROUNDS passes
        (a busy loop must not starve them of values from other threads).
        True if some are left."""
        self.rounds += 1
        deferred = self.deferred
        while deferred:
            op = deferred[0]
            if _gone(op):
                deferred.popleft()
                continue
            if busy and self.rounds - op.box_round < DEFER_ROUNDS:
                return True
            deferred.popleft()
            waiters = op.local[0]
            op.local = None
            if waiters and waiters[0] is op:
                waiters.popleft()
            rc = op.try_fn()
            if rc != _EAGAIN:
                self.resolve(op, rc)
                continue
            tag = self.start(op.ctx, op)
            if tag < 0:
                self.resolve(op, tag)
            else:
                op.tag = tag
        return False

    def resolve(self, op: _Op, rc: int) -> None:
        raise NotImplementedError

    def hand(self, op: _Op) -> None:
        """A coroutine of this loop served the local waiter op."""
        self.resolve(op, HANDED)

    def cancel(self, tag: int) -> None:
        if self.notify:
            plib.weft_async_cancel(self.notify, tag)

    def drain(self) -> None:
        """Reads every completion waiting on notify; wakes or undoes each."""
        notify = self.notify
        if not notify:
            return
        buf = self.buf
        pending = self.pending
        while True:
            n = plib.weft_async_poll(notify, self.buf_addr, BATCH)
            if n <= 0:
                return
            for i in range(n):
                c = buf[i]
                op = pending.pop(c.tag, None)
                if op is not None:
                    self._complete(op, c.result)
            if n < BATCH:
                return

    def _complete(self, op: _Op, result: int) -> None:
        raise NotImplementedError


# ------------------------------------------------------------------ asyncio


class _AsyncioBridge(_Bridge):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = weakref.ref(loop)
        loop.add_reader(self.fd, self.drain)
        self.kicked = False
        self.ready = getattr(loop, "_ready", None)  # CPython's run queue, if visible
        self.ctx_waits: Dict[int, Any] = {}  # context handle -> its _Fanout

    def wake(self, fut: Any, result: int) -> None:
        if not fut.done():
            fut.set_result(result)

    async def wait_fanout(self, fan: Any, timeout: Optional[float]) -> int:
        loop = self.loop()
        assert loop is not None
        fut = loop.create_future()
        fan.waiters.append(fut)
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, self.wake, fut, _ETIMEDOUT)
        try:
            result: int = await fut
        except asyncio.CancelledError:
            fan.leave(fut)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if result == _ETIMEDOUT and fut in fan.waiters:
            fan.leave(fut)
        return result

    def _complete(self, op: _Op, result: int) -> None:
        if op.timer is not None:
            op.timer.cancel()
        fut = op.fut
        if fut.cancelled():  # nobody takes it: undone
            undo_counts["on_arrival"] += 1
            op.undo(result)
            return
        fut.set_result(result)

    def resolve(self, op: _Op, rc: int) -> None:
        if op.timer is not None:
            op.timer.cancel()
        op.fut.set_result(rc)

    async def run(self, op: _Op, ctx: Optional[int], timeout: Optional[float],
                  local: Any = None) -> int:
        """Starts the operation and awaits its result code. On cancellation the
        completed operation is undone (now, or when its completion arrives).
        local (a channel's waiter deque): first wait on the loop, where a
        coroutine of the same loop can serve it without the runtime; the
        runtime start is deferred until the loop has nothing else to run."""
        loop = self.loop()
        assert loop is not None
        fut = op.fut = loop.create_future()
        if local is not None and self.ready is not None:
            self.defer(op, local, ctx)
            if not self.kicked:
                self.kicked = True
                loop.call_soon(self._start_deferred)
        else:
            tag = self.start(ctx, op)
            if tag < 0:
                return tag
            op.tag = tag
        if timeout is not None:
            op.timer = loop.call_later(max(timeout, 0), self._time_out, op)
        try:
            result: int = await fut
        except asyncio.CancelledError:
            op.local = None
            if fut.cancelled():
                if op.tag:
                    self.cancel(op.tag)  # its completion comes later: _complete undoes it
                else:
                    op.undo(_ECANCELED)  # never started: nothing happened
            else:  # it arrived while we were being cancelled
                undo_counts["at_cancel"] += 1
                op.undo(fut.result())
            if op.timer is not None:
                op.timer.cancel()
            raise
        if result == _ECANCELED and op.timed_out:
            return _ETIMEDOUT
        return result

    def _start_deferred(self) -> None:
        self.kicked = False
        if self.start_deferred(busy=bool(self.ready)):
            loop = self.loop()
            if loop is not None:
                self.kicked = True
                loop.call_soon(self._start_deferred)

    def _time_out(self, op: _Op) -> None:
        op.timed_out = True
        if op.tag:
            self.cancel(op.tag)
        elif not op.fut.done():  # still a local waiter: nothing to withdraw
            op.local = None
            op.fut.set_result(_ETIMEDOUT)


def _asyncio_bridge(loop: asyncio.AbstractEventLoop) -> _AsyncioBridge:
    b: Optional[_AsyncioBridge] = getattr(loop, "_weft_bridge", None)
    if b is None:
        b = _AsyncioBridge(loop)
        try:
            loop._weft_bridge = b  # type: ignore[attr-defined]
        except AttributeError:  # a loop class with __slots__: look it up each time
            _other_loops[loop] = b
        _watch_close(loop, b)
    return b


_other_loops: "weakref.WeakKeyDictionary[Any, _AsyncioBridge]" = weakref.WeakKeyDictionary()


def _watch_close(loop: asyncio.AbstractEventLoop, b: _AsyncioBridge) -> None:
    """Releases the bridge (and its fd watch) when the loop closes."""
    close = loop.close
    bref = weakref.ref(b)

    def closing() -> None:
        bb = bref()
        if bb is not None:
            try:
                loop.remove_reader(bb.fd)
            except Exception:  # noqa: BLE001 - already closed
                pass
            bb.close()
            _live.discard(bb)
        try:
            del loop._weft_bridge  # type: ignore[attr-defined]
        except AttributeError:
            pass
        close()
    try:
        loop.close = closing  # type: ignore[method-assign]
    except AttributeError:
        pass


# ------------------------------------------------------------------ trio


class _TrioBridge(_Bridge):
    def __init__(self, trio: Any) -> None:
        super().__init__()
        self.trio = trio
        import outcome
        self.outcome = outcome
        self.ctx_waits: Dict[int, Any] = {}
        self.checkpoint = trio.lowlevel.cancel_shielded_checkpoint
        self.lot = trio.lowlevel.ParkingLot()
        trio.lowlevel.spawn_system_task(self._reader, name="weft-completions")
        trio.lowlevel.spawn_system_task(self._starter, name="weft-deferred-starts")

    async def _starter(self) -> None:
        """Starts local waiters in the runtime once the run has nothing else
        to do (or they waited DEFER_ROUNDS checkpoints)."""
        lowlevel = self.trio.lowlevel
        while True:
            if not self.deferred:
                await self.lot.park()
            busy = lowlevel.current_statistics().tasks_runnable > 0
            if self.start_deferred(busy):
                await lowlevel.cancel_shielded_checkpoint()

    def resolve(self, op: _Op, rc: int) -> None:
        self.trio.lowlevel.reschedule(op.task, self.outcome.Value(rc))

    async def _reader(self) -> None:
        wait_readable = self.trio.lowlevel.wait_readable
        try:
            while True:
                await wait_readable(self.fd)
                self.drain()
        finally:
            self.close()
            _live.discard(self)

    def wake(self, task: Any, result: int) -> None:
        self.trio.lowlevel.reschedule(task, self.outcome.Value(result))

    async def wait_fanout(self, fan: Any, timeout: Optional[float]) -> int:
        """A ctx wait has no effect to undo: the abort always succeeds."""
        lowlevel = self.trio.lowlevel
        task = lowlevel.current_task()
        fan.waiters.append(task)

        def abort(raise_cancel: Any) -> Any:
            fan.leave(task)
            return lowlevel.Abort.SUCCEEDED
        if timeout is None:
            result: int = await lowlevel.wait_task_rescheduled(abort)
            return result
        with self.trio.move_on_after(timeout):
            result = await lowlevel.wait_task_rescheduled(abort)
            return result
        return _ETIMEDOUT

    def _complete(self, op: _Op, result: int) -> None:
        if isinstance(op.fut, _Fanout):
            op.fut.set_result(result)
            return
        if op.raise_cancel is not None:
            undo_counts["on_arrival" if result == _ECANCELED else "at_cancel"] += 1
        if op.raise_cancel is not None and result == _ECANCELED:
            self.trio.lowlevel.reschedule(op.task, self.outcome.capture(op.raise_cancel))
        else:
            self.trio.lowlevel.reschedule(op.task, self.outcome.Value(result))

    async def run(self, op: _Op, ctx: Optional[int], timeout: Optional[float],
                  local: Any = None) -> int:
        """Starts the operation and waits, rescheduled by its completion.
        local: first a local waiter (see _AsyncioBridge.run); cancelled before
        its runtime start, the abort succeeds (nothing happened)."""
        lowlevel = self.trio.lowlevel
        op.task = lowlevel.current_task()
        if local is not None and timeout is None:
            self.defer(op, local, ctx)
            if len(self.deferred) == 1:
                self.lot.unpark()

            def abort_local(raise_cancel: Any) -> Any:
                if op.tag == 0:  # still a local waiter: withdraw it (nothing happened)
                    op.local = None
                    op.undo(_ECANCELED)
                    return lowlevel.Abort.SUCCEEDED
                op.raise_cancel = raise_cancel
                self.cancel(op.tag)
                return lowlevel.Abort.FAILED
            result: int = await lowlevel.wait_task_rescheduled(abort_local)
            return result
        sub = None
        if timeout is not None:  # a child context with the deadline
            out = c_void_p()
            rc = plib.weft_ctx_with_timeout(ctx, int(max(timeout, 0) * 1e9), byref(out))
            if rc < 0:
                return rc
            ctx = sub = out.value
        try:
            tag = self.start(ctx, op)
            if tag < 0:
                return tag

            def abort(raise_cancel: Any) -> Any:
                # Refused: the completion decides (the value if it happened).
                op.raise_cancel = raise_cancel
                self.cancel(tag)
                return lowlevel.Abort.FAILED
            result = await lowlevel.wait_task_rescheduled(abort)
            return result
        finally:
            if sub is not None:
                plib.weft_ctx_cancel(sub)
                lib.weft_ctx_release(sub)


def _trio_bridge(trio: Any) -> _TrioBridge:
    var = _trio_var(trio)
    b: Optional[_TrioBridge] = var.get(None)
    if b is None:
        b = _TrioBridge(trio)
        var.set(b)
    return b


_run_var: Any = None


def _trio_var(trio: Any) -> Any:
    global _run_var
    if _run_var is None:
        _run_var = trio.lowlevel.RunVar("weft_bridge")
    return _run_var


# ------------------------------------------------------------------ dispatch


def _bridge() -> Any:
    """The running loop's bridge: asyncio (also anyio's asyncio backend), else
    trio (also anyio's trio backend)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        trio = sys.modules.get("trio")
        if trio is not None:
            try:
                trio.lowlevel.current_task()
            except RuntimeError:
                pass
            else:
                return _trio_bridge(trio)
        raise RuntimeError("weft: no running asyncio loop or trio run") from None
    return _asyncio_bridge(loop)


def bridge(loop: Optional[asyncio.AbstractEventLoop] = None) -> Any:
    return _asyncio_bridge(loop) if loop is not None else _bridge()


def _ctx_handle(ctx: Any) -> Optional[int]:
    return None if ctx is None else ctx.handle


async def _checkpoint() -> None:
    """After an operation that completed at once: trio wants a checkpoint (so
    a busy consumer cannot starve the run); asyncio.Queue does not yield there,
    neither does the asyncio path."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        trio = sys.modules.get("trio")
        if trio is not None:
            await trio.lowlevel.cancel_shielded_checkpoint()


# ------------------------------------------------------------------ operations


async def _await(try_fn: Optional[Callable[[], int]], starter: Starter, undo: Undo, keep: Any,
                 ctx: Any, timeout: Optional[float]) -> int:
    """The non-blocking form first, else the operation through the bridge:
    its result code (a timeout 0 or less never waits: ETIMEDOUT)."""
    rc = try_fn() if try_fn is not None else _EAGAIN
    if rc != _EAGAIN:
        await _checkpoint()
        return rc
    if timeout is not None and timeout <= 0:
        return _ETIMEDOUT
    return await _bridge().run(_FnOp(starter, undo, keep), _ctx_handle(ctx), timeout)


async def chan_recv(ch: Any, timeout: Optional[float], ctx: Any) -> Any:
    b = _bridge()
    if ch._back:
        if b.checkpoint is not None:
            await b.checkpoint()
        return ch._back.popleft()
    h = ch._h or ch.handle
    kind = ch._kind
    tmp = b.tmp if kind != _SIGNAL else None
    rc = plib.weft_chan_try_recv(h, b.tmp_addr if tmp is not None else None)
    if rc == _OK:
        value = ch._decode(tmp)
        if b.checkpoint is not None:
            await b.checkpoint()
        return value
    if rc != _EAGAIN:
        raise error(rc)
    if timeout is not None and timeout <= 0:
        raise error(_ETIMEDOUT)
    sender = pop_local(ch._lsend, b)
    if sender is not None:  # a coroutine of this loop waits to send: take it
        b.hand(sender)
        if b.checkpoint is not None:
            await b.checkpoint()
        return sender.value
    op = _RecvOp(ch, h)
    return op.result(await b.run(op, _ctx_handle(ctx), timeout, ch._lrecv))


async def chan_send(ch: Any, value: Any, timeout: Optional[float], ctx: Any) -> None:
    h = ch._h or ch.handle
    b = _bridge()
    if ch._lrecv and plib.weft_chan_len(h) == 0:
        # a coroutine of this loop waits to receive, nothing buffered: hand it over
        receiver = pop_local(ch._lrecv, b)
        if receiver is not None:
            receiver.value = value
            b.hand(receiver)
            if b.checkpoint is not None:
                await b.checkpoint()
            return
    op = _SendOp(ch, h, value)
    rc = op.try_fn()
    if rc == _EAGAIN:
        if timeout is not None and timeout <= 0:
            rc = _ETIMEDOUT
        else:
            try:
                rc = await b.run(op, _ctx_handle(ctx), timeout, ch._lsend)
            except BaseException as exc:
                if not isinstance(exc, _cancelled_types()):
                    op.undo(_EAGAIN)  # nothing was started (no loop, ...)
                raise
    elif b.checkpoint is not None:
        await b.checkpoint()
    op.undo(rc)  # not sent through the runtime: the registry lets go
    if rc < 0:
        raise error(rc)


def _cancelled_types() -> Tuple[type, ...]:
    """Exceptions meaning: the operation was started, the bridge undoes it."""
    types: List[type] = [asyncio.CancelledError]
    trio = sys.modules.get("trio")
    if trio is not None:
        types.append(trio.Cancelled)
    return tuple(types)


async def select(call: Any, timeout: Optional[float], ctx: Any) -> Any:
    sel = call.pushed_back()
    if sel is not None:
        await _checkpoint()
        return sel
    try:
        rc = await _await(lambda: lib.weft_select(call.array, call.n, _ffi.SELECT_DEFAULT, 0),
                          lambda c, n, t: plib.weft_select_async(call.array, call.n, c, n, t),
                          call.undo, call, ctx, timeout)
    except BaseException as exc:
        if not isinstance(exc, _cancelled_types()):
            call.drop_tokens()
        raise
    return call.finish(rc)


async def _simple(try_fn: Optional[Callable[[], int]], starter: Starter, undo: Undo, keep: Any,
                  ctx: Any, timeout: Optional[float]) -> None:
    rc = await _await(try_fn, starter, undo, keep, ctx, timeout)
    if rc < 0:
        raise error(rc)


async def wg_wait(wg: Any, timeout: Optional[float], ctx: Any) -> None:
    h = wg.handle
    await _simple(None, lambda c, n, t: plib.weft_wg_wait_async(h, c, n, t), None, wg, ctx, timeout)


async def mutex_lock(mu: Any, timeout: Optional[float], ctx: Any) -> None:
    h = mu.handle

    def undo(result: int) -> None:
        if result == _OK:
            plib.weft_mutex_unlock(h)
    await _simple(lambda: plib.weft_mutex_try_lock(h),
                  lambda c, n, t: plib.weft_mutex_lock_async(h, c, n, t), undo, mu, ctx, timeout)


async def sem_acquire(sem: Any, count: int, timeout: Optional[float], ctx: Any) -> None:
    h = sem.handle

    def undo(result: int) -> None:
        if result == _OK:
            plib.weft_sem_put(h, count)
    await _simple(lambda: plib.weft_sem_try_acquire(h, count),
                  lambda c, n, t: plib.weft_sem_acquire_async(h, count, c, n, t), undo, sem,
                  ctx, timeout)


class _Fanout:
    """One runtime ctx wait shared by every awaiter of the same context on
    this loop (like asyncio.Event: N awaiters, one operation). It stands in
    for the op's future: the completion wakes every waiter still there."""
    __slots__ = ("bridge", "key", "waiters", "tag", "target", "err")

    def __init__(self, bridge: Any, key: int, target: Any) -> None:
        self.bridge = bridge
        self.key = key
        self.waiters: List[Any] = []  # asyncio futures, or trio tasks
        self.tag = 0
        self.target = target
        self.err: Any = None  # the context's error, made once for every waiter

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return False

    def set_result(self, result: int) -> None:
        if self.bridge.ctx_waits.get(self.key) is self:
            del self.bridge.ctx_waits[self.key]
        self.err = self.target.err
        for w in self.waiters:
            self.bridge.wake(w, result)
        self.waiters = []

    def leave(self, w: Any) -> None:
        """A waiter gave up; the last one withdraws the runtime wait."""
        try:
            self.waiters.remove(w)
        except ValueError:
            return
        if not self.waiters and self.bridge.ctx_waits.get(self.key) is self:
            del self.bridge.ctx_waits[self.key]
            self.bridge.cancel(self.tag)


def _fanout(b: Any, target: Any, h: int) -> Any:
    """The shared wait for context h on bridge b (started on first use), or a
    negative code."""
    fan = b.ctx_waits.get(h)
    if fan is None:
        fan = _Fanout(b, h, target)
        op = _FnOp(lambda c, n, t: plib.weft_ctx_wait_async(c, n, t), None, target)
        op.fut = fan
        tag = b.start(h, op)
        if tag < 0:
            return tag
        fan.tag = tag
        b.ctx_waits[h] = fan
    return fan


async def ctx_wait(target: Any, timeout: Optional[float]) -> Any:
    h = target._h or target.handle
    b = _bridge()
    fan = b.ctx_waits.get(h)
    if fan is None:  # the first awaiter of this context on this loop
        if plib.weft_ctx_err(h) < 0:
            if b.checkpoint is not None:
                await b.checkpoint()
            return target.err
        if not plib.weft_ctx_done(h):
            raise error(_ffi.EDEADLK, "wait_async: this context can never be done")
        if timeout is not None and timeout <= 0:
            raise error(_ETIMEDOUT)
        fan = _fanout(b, target, h)
        if isinstance(fan, int):
            raise error(fan)
    if timeout is None and b.checkpoint is None:  # asyncio, the common case inline
        fut = b.loop().create_future()
        fan.waiters.append(fut)
        try:
            rc = await fut
        except asyncio.CancelledError:
            fan.leave(fut)
            raise
    else:
        rc = await b.wait_fanout(fan, timeout)
    err = fan.err if fan.err is not None else target.err
    if err is None:
        raise error(rc if rc < 0 and rc != _ECANCELED else _ETIMEDOUT)
    return err
