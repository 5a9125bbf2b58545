"""Channels moving any Python object, select, timer channels.

A Channel carries int64 tokens; the objects wait in the binding's registry
(weft._core): send registers the object and sends its token, a receive pops it,
so every object is delivered exactly once. Objects still buffered when the
Channel is released (release(), or garbage collection) are dropped from the
registry then; close() keeps them receivable, like Go.
"""
import collections
import ctypes
from ctypes import byref, c_int64, c_void_p

from . import _core, _ffi
from ._handle import Handle
from .errors import Closed, InvalidArgument, WouldBlock, check, error

lib = _ffi.lib

OBJECT = "object"   # Python objects through the registry
INT64 = "int64"     # raw int64 values (timer channels: weft_now_ns() stamps)
SIGNAL = "signal"   # elem_size 0 (a context's done channel)

_ELEM_SIZE = {OBJECT: 8, INT64: 8, SIGNAL: 0}


def _ctx_handle(ctx):
    return None if ctx is None else ctx.handle


class Channel(Handle):
    """Channel(capacity=0): a Go channel of Python objects; capacity 0 is an
    unbuffered rendezvous."""
    _release_fn = "weft_chan_release"

    def __init__(self, capacity=0, *, _handle=None, _kind=OBJECT):
        if _handle is None:
            if not isinstance(capacity, int) or capacity < 0:
                raise InvalidArgument("capacity must be an int >= 0")
            out = c_void_p()
            check(lib.weft_chan_make(_ELEM_SIZE[_kind], capacity, byref(out)))
            _handle = out.value
        super().__init__(_handle)
        self._kind = _kind

    # ---------------------------------------------------------- encoding

    def _encode(self, value):
        """(buffer or None, token or None) for a value to send."""
        if self._kind == OBJECT:
            token = _core.register(value)
            return c_int64(token), token
        if self._kind == INT64:
            return c_int64(int(value)), None
        return None, None

    def _decode(self, buf):
        if self._kind == OBJECT:
            return _core.take(buf.value)
        if self._kind == INT64:
            return buf.value
        return None

    def _out(self):
        return c_int64() if self._kind != SIGNAL else None

    @staticmethod
    def _ref(buf):
        return None if buf is None else byref(buf)

    # ---------------------------------------------------------- blocking

    def send(self, value, timeout=None, ctx=None):
        """Sends value, waiting for a receiver or room. Raises Closed, Timeout
        (timeout seconds passed), Canceled (ctx ended)."""
        h = self.handle  # before registering: a released channel leaks nothing
        buf, token = self._encode(value)
        rc = self._send_raw(h, self._ref(buf), timeout, ctx)
        if rc < 0:
            if token is not None:
                _core.drop(token)
            raise error(rc)

    def _send_raw(self, h, ref, timeout, ctx):
        if ctx is not None:
            if timeout is not None:
                with ctx.with_timeout(timeout) as sub:
                    return lib.weft_chan_send_ctx(h, ref, sub.handle)
            return lib.weft_chan_send_ctx(h, ref, ctx.handle)
        if timeout is not None:
            return lib.weft_chan_send_until(h, ref, _core.deadline_ns(timeout))
        return lib.weft_chan_send(h, ref)

    def recv(self, timeout=None, ctx=None):
        """Receives a value, waiting for one. Raises Closed once the channel is
        closed and drained, Timeout, Canceled."""
        h = self.handle
        buf = self._out()
        ref = self._ref(buf)
        if ctx is not None:
            if timeout is not None:
                with ctx.with_timeout(timeout) as sub:
                    rc = lib.weft_chan_recv_ctx(h, ref, sub.handle)
            else:
                rc = lib.weft_chan_recv_ctx(h, ref, ctx.handle)
        elif timeout is not None:
            rc = lib.weft_chan_recv_until(h, ref, _core.deadline_ns(timeout))
        else:
            rc = lib.weft_chan_recv(h, ref)
        check(rc)
        return self._decode(buf)

    def try_send(self, value):
        """Sends only if that needs no waiting; raises WouldBlock otherwise."""
        h = self.handle
        buf, token = self._encode(value)
        rc = lib.weft_chan_try_send(h, self._ref(buf))
        if rc < 0:
            if token is not None:
                _core.drop(token)
            raise error(rc)

    _MISSING = object()

    def try_recv(self, default=_MISSING):
        """Receives only if a value is ready; otherwise returns default when
        given, else raises WouldBlock. Raises Closed once closed and drained."""
        buf = self._out()
        rc = lib.weft_chan_try_recv(self.handle, self._ref(buf))
        if rc == _ffi.EAGAIN and default is not Channel._MISSING:
            return default
        check(rc)
        return self._decode(buf)

    def close(self):
        """Closes the channel: buffered values stay receivable, blocked senders
        and receivers get Closed. A second close raises Closed."""
        check(lib.weft_chan_close(self.handle))

    def __bool__(self):  # a channel is truthy even when empty (len 0)
        return True

    def __len__(self):
        return check(lib.weft_chan_len(self.handle))

    @property
    def cap(self):
        return check(lib.weft_chan_cap(self.handle))

    def __iter__(self):
        """Receives until the channel is closed and drained."""
        while True:
            try:
                yield self.recv()
            except Closed:
                return

    # ---------------------------------------------------------- asyncio

    async def recv_async(self, timeout=None, ctx=None):
        """await ch.recv_async(): receives without blocking the event loop."""
        from . import aio
        return await aio.chan_recv(self, timeout, ctx)

    async def send_async(self, value, timeout=None, ctx=None):
        from . import aio
        return await aio.chan_send(self, value, timeout, ctx)

    def __aiter__(self):
        return _AsyncIter(self)

    # ---------------------------------------------------------- release

    def _before_release_handle(self, h):
        if self._kind != OBJECT:
            return
        buf = c_int64()
        while lib.weft_chan_try_recv(h, byref(buf)) == 0:  # leftovers
            _core.drop(buf.value)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class _AsyncIter:
    def __init__(self, ch):
        self._ch = ch

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self._ch.recv_async()
        except Closed:
            raise StopAsyncIteration from None


class Timer(Channel):
    """A timer or ticker channel of int64 weft_now_ns() stamps."""

    def __init__(self, handle):
        super().__init__(_handle=handle, _kind=INT64)

    def stop(self):
        """True if the timer was running (it will not fire any more)."""
        return check(lib.weft_timer_stop(self.handle)) == 1


def after(seconds):
    """A channel that receives weft.now_ns() once, seconds from now."""
    out = c_void_p()
    check(lib.weft_after(_core.seconds_to_ns(seconds), byref(out)))
    return Timer(out.value)


def ticker(seconds):
    """A channel (capacity 1) receiving a stamp every `seconds`; stop() it."""
    out = c_void_p()
    check(lib.weft_ticker_make(_core.seconds_to_ns(seconds), byref(out)))
    return Timer(out.value)


# -------------------------------------------------------------- select


class Recv:
    """A receive case: Recv(ch) (ch may be None: never ready)."""
    __slots__ = ("chan",)
    op = _ffi.CASE_RECV

    def __init__(self, chan):
        self.chan = chan


class Send:
    """A send case: Send(ch, value)."""
    __slots__ = ("chan", "value")
    op = _ffi.CASE_SEND

    def __init__(self, chan, value):
        self.chan = chan
        self.value = value


Selected = collections.namedtuple("Selected", "index value ok")
Selected.__doc__ = """The case that fired: its index, the value received (None for
a send) and ok (False when a receive found the channel closed). With default=True
and nothing ready: index -1."""


class _SelectCall:
    """The weft_case array of one select, its buffers and send tokens."""

    def __init__(self, cases):
        self.cases = [Recv(c) if isinstance(c, Channel) or c is None else c for c in cases]
        n = len(self.cases)
        self.array = (_ffi.weft_case * max(n, 1))()
        self.bufs = []
        self.tokens = []
        for i, case in enumerate(self.cases):
            if not isinstance(case, (Recv, Send)):
                self.drop_tokens()
                raise InvalidArgument("select cases are Recv(ch), Send(ch, v) or channels")
            ch = case.chan
            buf = token = None
            if ch is not None:
                try:
                    handle = ch.handle
                except BaseException:
                    self.drop_tokens()
                    raise
                if case.op == _ffi.CASE_SEND:
                    buf, token = ch._encode(case.value)
                else:
                    buf = ch._out()
            self.bufs.append(buf)
            self.tokens.append(token)
            self.array[i].chan = None if ch is None else handle
            self.array[i].op = case.op
            self.array[i].elem = None if buf is None else ctypes.addressof(buf)
        self.n = n

    def drop_tokens(self, keep=-1):
        for i, token in enumerate(self.tokens):
            if token is not None and i != keep:
                _core.drop(token)

    def finish(self, rc, default=False):
        """Turns weft_select's return value into a Selected (or raises)."""
        if rc < 0:
            self.drop_tokens()
            if rc == _ffi.EAGAIN and default:
                return Selected(-1, None, False)
            raise error(rc)
        self.drop_tokens(keep=rc)
        case = self.cases[rc]
        result = self.array[rc].result
        if case.op == _ffi.CASE_SEND:
            if result < 0:
                if self.tokens[rc] is not None:
                    _core.drop(self.tokens[rc])
                raise error(result)
            return Selected(rc, None, True)
        if result < 0:
            return Selected(rc, None, False)
        return Selected(rc, case.chan._decode(self.bufs[rc]), True)

    def undo(self, rc):
        """A select that completed for nobody (its awaiter was cancelled): a
        received object goes back into its channel, unsent tokens are dropped."""
        if rc < 0:
            self.drop_tokens()
            return None
        self.drop_tokens(keep=rc)
        case = self.cases[rc]
        if case.op == _ffi.CASE_RECV and self.array[rc].result == 0:
            return case.chan, self.bufs[rc]
        if case.op == _ffi.CASE_SEND and self.array[rc].result < 0 and self.tokens[rc] is not None:
            _core.drop(self.tokens[rc])
        return None


def select(cases, timeout=None, default=False, ctx=None):
    """Waits until one case can proceed and performs exactly that one; several
    ready cases are chosen at random. default=True: returns index -1 at once
    when nothing is ready. Raises Timeout / Canceled; a send case on a closed
    channel raises Closed. Cases: Recv(ch) (or just ch), Send(ch, value)."""
    call = _SelectCall(cases)
    flags = _ffi.SELECT_DEFAULT if default else 0
    if ctx is not None:
        if timeout is not None:
            with ctx.with_timeout(timeout) as sub:
                rc = lib.weft_select_ctx(call.array, call.n, flags, sub.handle)
        else:
            rc = lib.weft_select_ctx(call.array, call.n, flags, ctx.handle)
    else:
        rc = lib.weft_select(call.array, call.n, flags, _core.deadline_ns(timeout))
    return call.finish(rc, default)


async def select_async(cases, timeout=None, ctx=None):
    """await weft.select_async([...]): select without blocking the event loop."""
    from . import aio
    return await aio.select(_SelectCall(cases), timeout, ctx)
