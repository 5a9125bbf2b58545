"""Contexts (Go's context package) and Group (errgroup) for Python callables."""
import itertools
import threading
from ctypes import byref, c_int64, c_void_p

from . import _core, _ffi
from ._handle import Handle
from .channel import SIGNAL, Channel
from .errors import InvalidArgument, check, error

lib = _ffi.lib

# with_value: keys map to small stable ints (the C key pointer); values stay in
# _values under a token (the C value pointer) while their Context object lives.
_keys = {}
_key_lock = threading.Lock()
_key_seq = itertools.count(1)
_values = {}


def _key_id(key):
    with _key_lock:
        kid = _keys.get(key)
        if kid is None:
            kid = _keys[key] = next(_key_seq)
        return kid


class Context(Handle):
    """A weft context. Make one with background(), with_cancel(), ...; use as a
    context manager to cancel (if cancelable) and release it on exit."""
    _release_fn = "weft_ctx_release"

    def __init__(self, handle, parent=None, value_token=None):
        super().__init__(handle)
        self._parent = parent  # keeps parent's Python-side values alive
        self._value_token = value_token

    # ---------------------------------------------------------- derive

    def _derive(self, fn, *args):
        out = c_void_p()
        check(fn(self.handle, *args, byref(out)))
        return Context(out.value, parent=self)

    def with_cancel(self):
        return self._derive(lib.weft_ctx_with_cancel)

    def with_timeout(self, seconds):
        return self._derive(lib.weft_ctx_with_timeout, _core.seconds_to_ns(seconds))

    def with_deadline(self, deadline_ns):
        """deadline_ns is absolute on weft.now_ns()'s clock."""
        return self._derive(lib.weft_ctx_with_deadline, int(deadline_ns))

    def with_value(self, key, value):
        token = next(_core._next_token)
        _values[token] = value
        out = c_void_p()
        rc = lib.weft_ctx_with_value(self.handle, _key_id(key), token, None, byref(out))
        if rc < 0:
            _values.pop(token, None)
            raise error(rc)
        return Context(out.value, parent=self, value_token=token)

    def without_cancel(self):
        return self._derive(lib.weft_ctx_without_cancel)

    def with_signals(self):
        """Canceled by SIGINT/SIGTERM (cause: the signal number)."""
        return self._derive(lib.weft_ctx_with_signals)

    # ---------------------------------------------------------- observe

    def cancel(self, cause=None):
        """Cancels this context and its subtree (idempotent). cause: an int
        reported by .cause."""
        if cause is None:
            check(lib.weft_ctx_cancel(self.handle))
        else:
            check(lib.weft_ctx_cancel_cause(self.handle, int(cause)))

    @property
    def err(self):
        """None while live; a Canceled or Timeout instance once done."""
        rc = lib.weft_ctx_err(self.handle)
        return None if rc == 0 else error(rc)

    @property
    def cause(self):
        """The int given to cancel(cause), else the error code (0 while live)."""
        return lib.weft_ctx_cause(self.handle)

    @property
    def deadline_ns(self):
        """The deadline (weft.now_ns() clock) or None."""
        out = c_int64()
        return out.value if check(lib.weft_ctx_deadline(self.handle, byref(out))) == 1 else None

    def value(self, key, default=None):
        """The value for key, looked up towards the root."""
        with _key_lock:
            kid = _keys.get(key)
        if kid is None:
            return default
        token = lib.weft_ctx_value(self.handle, kid)
        if not token:
            return default
        return _values.get(token, default)

    def done(self):
        """A channel closed when the context is done (usable in select and
        recv); None for a context that can never be done (background)."""
        ch = lib.weft_ctx_done(self.handle)
        if not ch:
            return None
        return Channel(_handle=lib.weft_chan_retain(ch), _kind=SIGNAL)

    def wait(self, timeout=None):
        """Blocks until done; returns .err. Raises Deadlock for a context that
        can never be done, Timeout if timeout seconds pass first."""
        if timeout is None:
            rc = lib.weft_ctx_wait(self.handle)
            if rc == _ffi.EDEADLK:
                raise error(rc)
            return self.err
        with self.with_timeout(timeout) as sub:
            rc = lib.weft_ctx_wait(sub.handle)
        if rc == _ffi.EDEADLK:
            raise error(rc)
        err = self.err
        if err is None:
            raise error(_ffi.ETIMEDOUT)
        return err

    async def wait_async(self, timeout=None):
        from . import aio
        return await aio.ctx_wait(self, timeout)

    # ---------------------------------------------------------- lifetime

    def _before_release_handle(self, h):
        pass

    def release(self):
        super().release()
        if self._value_token is not None:
            _values.pop(self._value_token, None)
            self._value_token = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._h is not None:
            lib.weft_ctx_cancel(self._h)  # EINVAL for uncancelable kinds: fine
        self.release()


class _Background(Context):
    def release(self):  # the root is never released
        pass


_background = None


def background():
    """The root context: never canceled, no deadline, no values."""
    global _background
    if _background is None:
        _background = _Background(lib.weft_ctx_background())
    return _background


def _parent(parent):
    return background() if parent is None else parent


def with_cancel(parent=None):
    return _parent(parent).with_cancel()


def with_timeout(seconds, parent=None):
    return _parent(parent).with_timeout(seconds)


def with_deadline(deadline_ns, parent=None):
    return _parent(parent).with_deadline(deadline_ns)


def with_value(key, value, parent=None):
    return _parent(parent).with_value(key, value)


def with_signals(parent=None):
    return _parent(parent).with_signals()


# ------------------------------------------------------------------ Group


class Group:
    """errgroup for Python callables: go(fn, *args) runs fn on a binding thread
    (never a task stack); the first exception cancels .ctx, wait() waits for all,
    cancels .ctx and re-raises that first exception. limit: at most n at once
    (go() waits for a slot; try_go() returns False instead)."""

    def __init__(self, parent=None, limit=None):
        from .sync import Semaphore, WaitGroup
        self.ctx = _parent(parent).with_cancel()
        self._wg = WaitGroup()
        self._sem = Semaphore(limit) if limit is not None and limit > 0 else None
        self._first = None
        self._lock = threading.Lock()

    def _launch(self, fn, args, kwargs):
        from .runtime import _pool_submit
        self._wg.add(1)

        def body():
            try:
                fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - first error wins
                with self._lock:
                    first = self._first is None
                    if first:
                        self._first = exc
                if first:
                    self.ctx.cancel()
            finally:
                if self._sem is not None:
                    self._sem.release()
                self._wg.done()
        return _pool_submit(body, (), {})

    def go(self, fn, *args, **kwargs):
        if self._sem is not None:
            self._sem.acquire()
        self._launch(fn, args, kwargs)

    def try_go(self, fn, *args, **kwargs):
        if self._sem is not None and not self._sem.try_acquire():
            return False
        self._launch(fn, args, kwargs)
        return True

    def _finish(self):
        self.ctx.cancel()
        if self._first is not None:
            raise self._first

    def wait(self):
        self._wg.wait()
        self._finish()

    async def wait_async(self):
        await self._wg.wait_async()
        self._finish()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.ctx.cancel()
            self._wg.wait()
            return False
        self.wait()
        return False
