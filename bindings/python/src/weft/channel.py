"""Channels moving any Python object, select, timer channels.

A Channel carries int64 tokens; the objects wait in the binding's registry
(weft._core): send registers the object and sends its token, a receive pops it,
so every object is delivered exactly once. Objects still buffered when the last
Channel object of a handle is released (release(), or garbage collection) are
dropped from the registry then; close() keeps them receivable, like Go.

Push-back: an awaited receive that completed in the runtime but whose awaiter
was cancelled puts its value at the front of the channel's push-back buffer
(`_back`); every receive (recv, try_recv, the async forms, select) takes from
there first, so the value is neither lost nor reordered for the next receiver.

Every call tries the non-blocking form first (through plib: it keeps the GIL);
only when that would block does it wait (through lib, the GIL released), on the
main thread in slices so Ctrl-C gets through (weft._core.wait).
"""
from __future__ import annotations

import ctypes
import random
from collections import deque
from ctypes import addressof, byref, c_int64, c_void_p
from typing import (Any, AsyncIterator, Coroutine, Deque, Generic, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple, TypeVar, Union, overload)

from . import _core, _ffi, aio
from ._handle import Handle
from .errors import Closed, InvalidArgument, WouldBlock, check, error

lib = _ffi.lib
plib = _ffi.plib

OBJECT = "object"   # Python objects through the registry
INT64 = "int64"     # raw int64 values (timer channels: weft_now_ns() stamps)
SIGNAL = "signal"   # elem_size 0 (a context's done channel)

_ELEM_SIZE = {OBJECT: 8, INT64: 8, SIGNAL: 0}
_objects = _core._objects              # the registry, inline on the hot paths
_next_token = _core._next_token.__next__
_EAGAIN = _ffi.EAGAIN
_ECLOSED = _ffi.ECLOSED

T = TypeVar("T")
D = TypeVar("D")


class _Missing:
    pass


_MISSING = _Missing()


class Channel(Handle, Generic[T]):
    """Channel(capacity=0): a Go channel of Python objects; capacity 0 is an
    unbuffered rendezvous. Channel[int](8) for the type checker."""
    _release_fn = "weft_chan_release"
    _retain_fn = "weft_chan_retain"

    def __init__(self, capacity: int = 0, *, _handle: Optional[int] = None,
                 _kind: str = OBJECT) -> None:
        if _handle is None:
            if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
                raise InvalidArgument("capacity must be an int >= 0, not %r" % (capacity,))
            out = c_void_p()
            check(lib.weft_chan_make(_ELEM_SIZE[_kind], capacity, byref(out)))
            _handle = out.value
            assert _handle is not None
        super().__init__(_handle)
        self._kind = _kind
        self._back: Deque[Any] = deque()
        # Coroutines waiting on an event loop, not yet started in the runtime
        # (weft.aio): a coroutine of the same loop serves them directly.
        self._lrecv: Deque[Any] = deque()
        self._lsend: Deque[Any] = deque()
        self._shared = [1]  # Channel objects (copies) sharing this handle and _back

    # ---------------------------------------------------------- encoding

    def _encode(self, value: Any) -> Tuple[Optional[c_int64], Optional[int]]:
        """(buffer or None, token or None) for a value to send."""
        if self._kind == OBJECT:
            token = _core.register(value)
            return c_int64(token), token
        if self._kind == INT64:
            return c_int64(int(value)), None
        return None, None

    def _decode(self, buf: Optional[c_int64]) -> Any:
        if self._kind == OBJECT:
            assert buf is not None
            return _core.take(buf.value)
        if self._kind == INT64:
            assert buf is not None
            return buf.value
        return None

    def _out(self) -> Optional[c_int64]:
        return c_int64() if self._kind != SIGNAL else None

    def _push_back(self, value: Any) -> None:
        """A value received for an awaiter that was cancelled: first in line."""
        self._back.appendleft(value)

    # ---------------------------------------------------------- blocking

    def send(self, value: T, timeout: Optional[float] = None, ctx: Optional[Any] = None) -> None:
        """Sends value, waiting for a receiver or room. Raises Closed, Timeout
        (timeout seconds passed), Canceled (ctx ended)."""
        h = self._h or self.handle  # before registering: a released channel leaks nothing
        token = None
        if self._kind == OBJECT:  # the hot path inline: register, then try
            token = _next_token()
            _objects[token] = value
            buf: Optional[c_int64] = c_int64(token)
        else:
            buf, token = self._encode(value)
        addr = None if buf is None else addressof(buf)
        rc = plib.weft_chan_try_send(h, addr)
        if rc == _EAGAIN:
            rc = _core.wait(lib.weft_chan_send_until, lib.weft_chan_send_ctx, (h, addr), timeout, ctx)
        if rc < 0:
            if token is not None:
                _core.drop(token)
            raise error(rc)

    def recv(self, timeout: Optional[float] = None, ctx: Optional[Any] = None) -> T:
        """Receives a value, waiting for one. Raises Closed once the channel is
        closed and drained, Timeout, Canceled."""
        if self._back:
            return self._back.popleft()
        h = self._h or self.handle
        if self._kind == SIGNAL:
            buf, addr = None, None
        else:
            buf = c_int64()
            addr = addressof(buf)
        rc = plib.weft_chan_try_recv(h, addr)
        if rc == _EAGAIN:
            rc = _core.wait(lib.weft_chan_recv_until, lib.weft_chan_recv_ctx, (h, addr), timeout, ctx)
        if rc < 0:
            raise error(rc)
        if self._kind == OBJECT:
            return _objects.pop(buf.value)  # type: ignore[union-attr]
        return self._decode(buf)

    def try_send(self, value: T) -> None:
        """Sends only if that needs no waiting; raises WouldBlock otherwise."""
        h = self.handle
        buf, token = self._encode(value)
        rc = plib.weft_chan_try_send(h, None if buf is None else byref(buf))
        if rc < 0:
            if token is not None:
                _core.drop(token)
            raise error(rc)

    @overload
    def try_recv(self) -> T: ...
    @overload
    def try_recv(self, default: D) -> Union[T, D]: ...

    def try_recv(self, default: Any = _MISSING) -> Any:
        """Receives only if a value is ready; otherwise returns default when
        given, else raises WouldBlock. Raises Closed once closed and drained."""
        if self._back:
            return self._back.popleft()
        buf = self._out()
        rc = plib.weft_chan_try_recv(self.handle, None if buf is None else byref(buf))
        if rc == _EAGAIN and default is not _MISSING:
            return default
        check(rc)
        return self._decode(buf)

    def close(self) -> None:
        """Closes the channel: buffered values stay receivable, blocked senders
        and receivers get Closed. A second close raises Closed."""
        check(plib.weft_chan_close(self.handle))

    @property
    def closed(self) -> bool:
        """True once closed (values may still be buffered)."""
        return check(plib.weft_chan_closed(self.handle)) == 1

    def __bool__(self) -> bool:  # a channel is truthy even when empty (len 0)
        return True

    def __len__(self) -> int:
        return check(plib.weft_chan_len(self.handle)) + len(self._back)

    @property
    def cap(self) -> int:
        return check(plib.weft_chan_cap(self.handle))

    def _state(self) -> str:
        return "len=%d cap=%d%s" % (len(self), self.cap, " closed" if self.closed else "")

    def __iter__(self) -> Iterator[T]:
        """Receives until the channel is closed and drained."""
        while True:
            try:
                yield self.recv()
            except Closed:
                return

    # ---------------------------------------------------------- async

    def recv_async(self, timeout: Optional[float] = None,
                   ctx: Optional[Any] = None) -> Coroutine[Any, Any, T]:
        """await ch.recv_async(): receives without blocking the event loop
        (asyncio, trio, anyio). Cancel-safe: a value that arrived for a
        cancelled awaiter goes to the next receive."""
        return aio.chan_recv(self, timeout, ctx)

    def send_async(self, value: T, timeout: Optional[float] = None,
                   ctx: Optional[Any] = None) -> Coroutine[Any, Any, None]:
        """await ch.send_async(v): sends without blocking the event loop."""
        return aio.chan_send(self, value, timeout, ctx)

    def __aiter__(self) -> AsyncIterator[T]:
        return _AsyncIter(self)

    # ---------------------------------------------------------- release

    def __copy__(self) -> "Channel[T]":
        new = super().__copy__()
        self._shared[0] += 1
        return new

    def _before_release_handle(self, h: int) -> None:
        self._shared[0] -= 1
        if self._kind != OBJECT or self._shared[0] > 0:
            return
        self._back.clear()
        buf = c_int64()
        while plib.weft_chan_try_recv(h, byref(buf)) == 0:  # leftovers
            _core.drop(buf.value)

    def __enter__(self) -> "Channel[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _AsyncIter(Generic[T]):
    def __init__(self, ch: Channel[T]) -> None:
        self._ch = ch

    def __aiter__(self) -> "_AsyncIter[T]":
        return self

    async def __anext__(self) -> T:
        try:
            return await self._ch.recv_async()
        except Closed:
            raise StopAsyncIteration from None


class Timer(Channel[int]):
    """A timer or ticker channel of int64 weft_now_ns() stamps."""

    def __init__(self, handle: int) -> None:
        super().__init__(_handle=handle, _kind=INT64)

    def stop(self) -> bool:
        """True if the timer was running (it will not fire any more)."""
        return check(lib.weft_timer_stop(self.handle)) == 1


def after(seconds: float) -> Timer:
    """A channel that receives weft.now_ns() once, seconds from now."""
    out = c_void_p()
    check(lib.weft_after(_core.seconds_to_ns(seconds, "after: seconds"), byref(out)))
    assert out.value is not None
    return Timer(out.value)


def ticker(seconds: float) -> Timer:
    """A channel (capacity 1) receiving a stamp every `seconds`; stop() it."""
    out = c_void_p()
    check(lib.weft_ticker_make(_core.seconds_to_ns(seconds, "ticker: seconds"), byref(out)))
    assert out.value is not None
    return Timer(out.value)


# -------------------------------------------------------------- select


class Recv(Generic[T]):
    """A receive case: Recv(ch) (ch may be None: never ready)."""
    __slots__ = ("chan",)
    op = _ffi.CASE_RECV

    def __init__(self, chan: Optional[Channel[T]]) -> None:
        self.chan = chan

    def __repr__(self) -> str:
        return "Recv(%r)" % (self.chan,)


class Send(Generic[T]):
    """A send case: Send(ch, value)."""
    __slots__ = ("chan", "value")
    op = _ffi.CASE_SEND

    def __init__(self, chan: Optional[Channel[T]], value: T) -> None:
        self.chan = chan
        self.value = value

    def __repr__(self) -> str:
        return "Send(%r, %r)" % (self.chan, self.value)


class Selected(NamedTuple):
    """The case that fired: its index, the value received (None for a send)
    and ok (False when a receive found the channel closed). With default=True
    and nothing ready: index -1."""
    index: int  # type: ignore[assignment]  # shadows tuple.index, as namedtuple did
    value: Any
    ok: bool


Case = Union[Recv[Any], Send[Any], Channel[Any], None]


class _SelectCall:
    """The weft_case array of one select, its buffers and send tokens."""

    def __init__(self, cases: Sequence[Case]) -> None:
        if isinstance(cases, (Recv, Send, Channel)):
            raise InvalidArgument("select takes a list of cases, not one case")
        self.cases: List[Union[Recv[Any], Send[Any]]] = [
            Recv(c) if isinstance(c, Channel) or c is None else c for c in cases]
        n = len(self.cases)
        self.array = (_ffi.weft_case * max(n, 1))()
        self.bufs: List[Optional[c_int64]] = []
        self.tokens: List[Optional[int]] = []
        self.active = 0
        for i, case in enumerate(self.cases):
            if not isinstance(case, (Recv, Send)):
                self.drop_tokens()
                raise InvalidArgument("select: case %d is %r, not Recv(ch), Send(ch, v) or a "
                                      "channel" % (i, case))
            ch = case.chan
            buf: Optional[c_int64] = None
            token: Optional[int] = None
            handle = None
            if ch is not None:
                if not isinstance(ch, Channel):
                    self.drop_tokens()
                    raise InvalidArgument("select: case %d's channel is %r" % (i, ch))
                try:
                    handle = ch.handle
                except BaseException:
                    self.drop_tokens()
                    raise
                self.active += 1
                if case.op == _ffi.CASE_SEND:
                    buf, token = ch._encode(case.value)  # type: ignore[union-attr]
                else:
                    buf = ch._out()
            self.bufs.append(buf)
            self.tokens.append(token)
            self.array[i].chan = handle
            self.array[i].op = case.op
            self.array[i].elem = None if buf is None else ctypes.addressof(buf)
        self.n = n

    def pushed_back(self) -> Optional[Selected]:
        """A receive case whose channel holds pushed-back values fires first."""
        ready = [i for i, case in enumerate(self.cases)
                 if case.op == _ffi.CASE_RECV and case.chan is not None and case.chan._back]
        if not ready:
            return None
        i = random.choice(ready)
        chan = self.cases[i].chan
        assert chan is not None
        self.drop_tokens()
        return Selected(i, chan._back.popleft(), True)

    def drop_tokens(self, keep: int = -1) -> None:
        for i, token in enumerate(self.tokens):
            if token is not None and i != keep:
                _core.drop(token)

    def finish(self, rc: int, default: bool = False) -> Selected:
        """Turns weft_select's return value into a Selected (or raises)."""
        if rc < 0:
            self.drop_tokens()
            if rc == _EAGAIN and default:
                return Selected(-1, None, False)
            raise error(rc)
        self.drop_tokens(keep=rc)
        case = self.cases[rc]
        result = self.array[rc].result
        if case.op == _ffi.CASE_SEND:
            if result < 0:
                token = self.tokens[rc]
                if token is not None:
                    _core.drop(token)
                raise error(result)
            return Selected(rc, None, True)
        if result < 0:
            return Selected(rc, None, False)
        assert case.chan is not None
        return Selected(rc, case.chan._decode(self.bufs[rc]), True)

    def undo(self, rc: int) -> None:
        """A select that completed for nobody (its awaiter was cancelled): a
        received value goes to its channel's push-back buffer, unsent tokens
        are dropped; a send that happened stays sent."""
        if rc < 0:
            self.drop_tokens()
            return
        self.drop_tokens(keep=rc)
        case = self.cases[rc]
        result = self.array[rc].result
        if case.op == _ffi.CASE_RECV and result == 0:
            assert case.chan is not None
            case.chan._push_back(case.chan._decode(self.bufs[rc]))
        elif case.op == _ffi.CASE_SEND and result < 0:
            token = self.tokens[rc]
            if token is not None:
                _core.drop(token)


def _select_until(array: Any, n: int, flags: int, deadline: int) -> int:
    return lib.weft_select(array, n, flags, deadline)


def _select_ctx(array: Any, n: int, flags: int, ctx: int) -> int:
    return lib.weft_select_ctx(array, n, flags, ctx)


def select(cases: Sequence[Case], timeout: Optional[float] = None, default: bool = False,
           ctx: Optional[Any] = None) -> Selected:
    """Waits until one case can proceed and performs exactly that one; several
    ready cases are chosen at random. default=True: returns index -1 at once
    when nothing is ready. Raises Timeout / Canceled; a send case on a closed
    channel raises Closed. Cases: Recv(ch) (or just ch), Send(ch, value).
    No case (select([]), or only None channels) blocks until timeout / ctx,
    forever without them (interruptibly), as Go's empty select does."""
    call = _SelectCall(cases)
    sel = call.pushed_back()
    if sel is not None:
        return sel
    rc = lib.weft_select(call.array, call.n, _ffi.SELECT_DEFAULT, 0)
    if rc == _EAGAIN and not default:
        rc = _core.wait(_select_until, _select_ctx, (call.array, call.n, 0), timeout, ctx,
                        forever=call.active == 0)
    return call.finish(rc, default)


async def select_async(cases: Sequence[Case], timeout: Optional[float] = None,
                       ctx: Optional[Any] = None) -> Selected:
    """await weft.select_async([...]): select without blocking the event loop.
    No case waits until timeout / ctx (forever without them)."""
    return await aio.select(_SelectCall(cases), timeout, ctx)
