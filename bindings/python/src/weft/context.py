"""Contexts (Go's context package) and Group (errgroup) for Python callables."""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import Future
from ctypes import byref, c_int64, c_void_p
from typing import Any, Callable, Coroutine, Dict, Hashable, List, Optional, Tuple, TypeVar

R = TypeVar("R")

from . import _core, _ffi, aio
from ._handle import Handle
from .channel import SIGNAL, Channel
from .errors import InvalidArgument, WeftError, check, error

lib = _ffi.lib
plib = _ffi.plib


def _never(*args: Any) -> int:  # Context.wait always passes a context
    return _ffi.EINVAL

# with_value: keys map to small stable ints (the C key pointer); values stay in
# _values under a token (the C value pointer) while their Context object lives.
_keys: Dict[Hashable, int] = {}
_key_lock = threading.Lock()
_key_seq = itertools.count(1)
_values: Dict[int, Any] = {}


def _key_id(key: Hashable) -> int:
    with _key_lock:
        kid = _keys.get(key)
        if kid is None:
            kid = _keys[key] = next(_key_seq)
        return kid


class Context(Handle):
    """A weft context. Make one with background(), with_cancel(), ...; use as a
    context manager to cancel (if cancelable) and release it on exit."""
    _release_fn = "weft_ctx_release"
    _retain_fn = "weft_ctx_retain"

    def __init__(self, handle: int, parent: Optional[Context] = None,
                 value_token: Optional[int] = None) -> None:
        super().__init__(handle)
        self._parent = parent  # keeps parent's Python-side values alive
        self._value_token = value_token

    # ---------------------------------------------------------- derive

    def _derive(self, fn: Callable[..., int], *args: Any) -> Context:
        out = c_void_p()
        check(fn(self.handle, *args, byref(out)))
        assert out.value is not None
        return Context(out.value, parent=self)

    def with_cancel(self) -> Context:
        return self._derive(lib.weft_ctx_with_cancel)

    def with_timeout(self, seconds: float) -> Context:
        return self._derive(lib.weft_ctx_with_timeout, _core.seconds_to_ns(seconds))

    def with_deadline(self, deadline_ns: int) -> Context:
        """deadline_ns is absolute on weft.now_ns()'s clock."""
        return self._derive(lib.weft_ctx_with_deadline, int(deadline_ns))

    def with_value(self, key: Hashable, value: Any) -> Context:
        token = next(_core._next_token)
        _values[token] = value
        out = c_void_p()
        rc = lib.weft_ctx_with_value(self.handle, _key_id(key), token, None, byref(out))
        if rc < 0:
            _values.pop(token, None)
            raise error(rc)
        assert out.value is not None
        return Context(out.value, parent=self, value_token=token)

    def without_cancel(self) -> Context:
        return self._derive(lib.weft_ctx_without_cancel)

    def with_signals(self) -> Context:
        """Canceled by SIGINT/SIGTERM (cause: the signal number)."""
        return self._derive(lib.weft_ctx_with_signals)

    # ---------------------------------------------------------- observe

    def cancel(self, cause: Optional[int] = None) -> None:
        """Cancels this context and its subtree (idempotent). cause: an int
        reported by .cause."""
        if cause is None:
            rc = plib.weft_ctx_cancel(self.handle)
        else:
            if isinstance(cause, bool) or not isinstance(cause, int):
                raise InvalidArgument("cancel: cause must be an int, not %r" % (cause,))
            rc = plib.weft_ctx_cancel_cause(self.handle, cause)
        if rc < 0:
            raise error(rc, "cancel: this context cannot be canceled" if rc == _ffi.EINVAL else None)

    @property
    def err(self) -> Optional[WeftError]:
        """None while live; a Canceled or Timeout instance once done."""
        rc = lib.weft_ctx_err(self.handle)
        return None if rc == 0 else error(rc)

    @property
    def cause(self) -> int:
        """The int given to cancel(cause), else the error code (0 while live)."""
        return lib.weft_ctx_cause(self.handle)

    @property
    def deadline_ns(self) -> Optional[int]:
        """The deadline (weft.now_ns() clock) or None."""
        out = c_int64()
        return out.value if check(lib.weft_ctx_deadline(self.handle, byref(out))) == 1 else None

    def value(self, key: Hashable, default: Any = None) -> Any:
        """The value for key, looked up towards the root."""
        with _key_lock:
            kid = _keys.get(key)
        if kid is None:
            return default
        token = lib.weft_ctx_value(self.handle, kid)
        if not token:
            return default
        return _values.get(token, default)

    def done(self) -> Optional[Channel[None]]:
        """A channel closed when the context is done (usable in select and
        recv); None for a context that can never be done (background)."""
        ch = lib.weft_ctx_done(self.handle)
        if not ch:
            return None
        return Channel(_handle=lib.weft_chan_retain(ch), _kind=SIGNAL)

    def wait(self, timeout: Optional[float] = None) -> WeftError:
        """Blocks until done; returns .err. Raises Deadlock for a context that
        can never be done (without a timeout), Timeout if timeout seconds pass
        first. Ctrl-C interrupts it on the main thread."""
        h = self.handle
        if timeout is None and not plib.weft_ctx_done(h):
            raise error(_ffi.EDEADLK, "wait: this context can never be done")
        rc = _core.wait(_never, lib.weft_ctx_wait, (), timeout, self)
        if rc == _ffi.EDEADLK:
            raise error(rc)
        err = self.err
        if err is None:
            raise error(_ffi.ETIMEDOUT)
        return err

    def after_func(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> AfterFunc:
        """Runs fn(*args, **kwargs) on a binding thread once this context is
        done (Go's context.AfterFunc). Returns an AfterFunc: stop() prevents
        the call if it has not started; .future is its concurrent Future."""
        return AfterFunc(self, fn, args, kwargs)

    def wait_async(self, timeout: Optional[float] = None) -> Coroutine[Any, Any, WeftError]:
        """await ctx.wait_async(): like wait() without blocking the event loop;
        every awaiter of one context on a loop shares one runtime wait."""
        return aio.ctx_wait(self, timeout)

    def _state(self) -> str:
        err = lib.weft_ctx_err(self._h)
        dl = self.deadline_ns
        parts = ["live" if err == 0 else "done(%s)" % lib.weft_err_name(err).decode()]
        if dl is not None:
            parts.append("deadline in %.3fs" % ((dl - lib.weft_now_ns()) / 1e9))
        return " ".join(parts)

    # ---------------------------------------------------------- lifetime

    def _before_release_handle(self, h: int) -> None:
        pass

    def release(self) -> None:
        super().release()
        if self._value_token is not None:
            _values.pop(self._value_token, None)
            self._value_token = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._h is not None:
            lib.weft_ctx_cancel(self._h)  # EINVAL for uncancelable kinds: fine
        self.release()


class _Background(Context):
    def release(self) -> None:  # the root is never released
        pass


_background: Optional[Context] = None


def background() -> Context:
    """The root context: never canceled, no deadline, no values."""
    global _background
    if _background is None:
        _background = _Background(lib.weft_ctx_background())
    return _background


def _parent(parent: Optional[Context]) -> Context:
    return background() if parent is None else parent


def with_cancel(parent: Optional[Context] = None) -> Context:
    return _parent(parent).with_cancel()


def with_timeout(seconds: float, parent: Optional[Context] = None) -> Context:
    return _parent(parent).with_timeout(seconds)


def with_deadline(deadline_ns: int, parent: Optional[Context] = None) -> Context:
    return _parent(parent).with_deadline(deadline_ns)


def with_value(key: Hashable, value: Any, parent: Optional[Context] = None) -> Context:
    return _parent(parent).with_value(key, value)


def with_signals(parent: Optional[Context] = None) -> Context:
    return _parent(parent).with_signals()


# ------------------------------------------------------------------ Group


class AfterFunc:
    """A call scheduled by Context.after_func."""

    def __init__(self, ctx: Context, fn: Callable[..., Any], args: Tuple[Any, ...],
                 kwargs: Dict[str, Any]) -> None:
        if not callable(fn):
            raise InvalidArgument("after_func: fn must be callable, not %r" % (fn,))
        self._stop = with_cancel()
        self._lock = threading.Lock()
        self._status = "waiting"
        ctx_done, stop_done = ctx.done(), self._stop.done()

        def body() -> Any:
            from .channel import select
            select([stop_done] if ctx_done is None else [ctx_done, stop_done])
            with self._lock:
                if self._status != "waiting":
                    return None
                self._status = "running"
            return fn(*args, **kwargs)
        self.future = _core.pool.submit(body, (), {})

    def stop(self) -> bool:
        """True if this stopped the call (it had not started)."""
        with self._lock:
            if self._status != "waiting":
                return False
            self._status = "stopped"
        self._stop.cancel()
        return True

    def __repr__(self) -> str:
        return "<weft.AfterFunc %s>" % self._status


class Group:
    """errgroup for Python callables: go(fn, *args) runs fn on a binding thread
    (never a task stack) and returns a concurrent.futures.Future of its result;
    the first exception cancels .ctx. wait() waits for all, cancels .ctx and
    returns the results in go() order, or raises: the first exception
    (errgroup), or with all_errors=True an ExceptionGroup of every failure
    (like asyncio.TaskGroup). limit: at most n at once (go() waits for a slot;
    try_go() returns False instead)."""

    def __init__(self, parent: Optional[Context] = None, limit: Optional[int] = None,
                 all_errors: bool = False) -> None:
        from .sync import Semaphore, WaitGroup
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise InvalidArgument("Group: limit must be an int or None, not %r" % (limit,))
        self.ctx = _parent(parent).with_cancel()
        self._wg = WaitGroup()
        self._sem = Semaphore(limit) if limit is not None and limit > 0 else None
        self._first: Optional[BaseException] = None
        self._lock = threading.Lock()
        self._all_errors = all_errors
        self._futures: List[Future[Any]] = []

    def _launch(self, fn: Callable[..., R], args: Tuple[Any, ...],
                kwargs: Dict[str, Any]) -> Future[R]:
        if not callable(fn):
            raise InvalidArgument("Group.go: fn must be callable, not %r" % (fn,))
        self._wg.add(1)

        def body() -> R:
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - first error wins
                with self._lock:
                    first = self._first is None
                    if first:
                        self._first = exc
                if first:
                    self.ctx.cancel()
                raise
            finally:
                if self._sem is not None:
                    self._sem.release()
                self._wg.done()
        future = _core.pool.submit(body, (), {}, report=False)
        with self._lock:
            self._futures.append(future)
        return future

    def go(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> Future[R]:
        if self._sem is not None:
            self._sem.acquire()
        return self._launch(fn, args, kwargs)

    def try_go(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        if self._sem is not None and not self._sem.try_acquire():
            return False
        self._launch(fn, args, kwargs)
        return True

    def _finish(self) -> List[Any]:
        self.ctx.cancel()
        with self._lock:
            futures = list(self._futures)
        if self._all_errors:
            errors = [e for e in (f.exception() for f in futures) if e is not None]
            if errors:
                raise _exception_group("weft.Group: %d of %d failed" % (len(errors), len(futures)),
                                       errors)
        elif self._first is not None:
            raise self._first
        return [f.result() for f in futures]

    def wait(self) -> List[Any]:
        self._wg.wait()
        return self._finish()

    async def wait_async(self) -> List[Any]:
        await self._wg.wait_async()
        return self._finish()

    def __repr__(self) -> str:
        with self._lock:
            n = len(self._futures)
            done = sum(f.done() for f in self._futures)
        return "<weft.Group %d started, %d done%s>" % (n, done, ", failed" if self._first else "")

    def __enter__(self) -> Group:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.ctx.cancel()
            self._wg.wait()
            return
        self.wait()


def _exception_group(message: str, errors: List[BaseException]) -> BaseException:
    import builtins
    cls = getattr(builtins, "BaseExceptionGroup", None)
    if cls is None:  # Python < 3.11: the first error, the others chained in notes
        return errors[0]
    return cls(message, errors)
