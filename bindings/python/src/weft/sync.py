"""WaitGroup, Mutex, RWMutex, Semaphore, Once, Cond: weft's task-aware primitives,
usable from any Python thread (and, with the *_async forms, from asyncio)."""
from __future__ import annotations

import contextlib
from ctypes import byref, c_void_p
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Iterator, Optional, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .context import Context

R = TypeVar("R")

from . import _core, _ffi, aio
from ._handle import Handle
from .errors import InvalidArgument, check

lib = _ffi.lib
plib = _ffi.plib


def _wait(timeout: Optional[float], ctx: Optional[Context], try_fn: Optional[Callable[..., int]],
          until: Callable[..., int], with_ctx: Callable[..., int], *args: Any) -> int:
    """One blocking call: the non-blocking form first (try_fn, GIL kept), then
    the _until / _ctx form (in slices on the main thread: Ctrl-C works)."""
    if try_fn is not None:
        rc = try_fn(*args)
        if rc != _ffi.EAGAIN:
            return check(rc)
    return check(_core.wait(until, with_ctx, args, timeout, ctx))


def _make(fn: Callable[..., int], *args: Any) -> int:
    out = c_void_p()
    check(fn(*args, byref(out)))
    assert out.value is not None
    return out.value


class WaitGroup(Handle):
    _release_fn = "weft_wg_release"
    _retain_fn = "weft_wg_retain"

    def __init__(self) -> None:
        super().__init__(_make(lib.weft_wg_make))

    def add(self, delta: int = 1) -> None:
        """Raises OutOfRange when the counter would go below zero."""
        check(lib.weft_wg_add(self.handle, int(delta)))

    def done(self) -> None:
        check(lib.weft_wg_done(self.handle))

    def wait(self, timeout: Optional[float] = None, ctx: Optional[Context] = None) -> None:
        _wait(timeout, ctx, None, lib.weft_wg_wait_until, lib.weft_wg_wait_ctx, self.handle)

    def wait_async(self, timeout: Optional[float] = None,
                   ctx: Optional[Context] = None) -> Coroutine[Any, Any, None]:
        return aio.wg_wait(self, timeout, ctx)

    def go(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> Future[R]:
        """add(1), run fn on a binding thread, done() when it returns (Go's wg.Go).
        Returns a concurrent.futures.Future of fn's result."""
        from .runtime import _pool_submit
        self.add(1)

        def body() -> R:
            try:
                return fn(*args, **kwargs)
            finally:
                self.done()
        return _pool_submit(body, (), {})


class Mutex(Handle):
    """A task-aware mutex; `with mu:` and `async with mu:` lock and unlock."""
    _release_fn = "weft_mutex_release"
    _retain_fn = "weft_mutex_retain"

    def __init__(self) -> None:
        super().__init__(_make(lib.weft_mutex_make))

    def lock(self, timeout: Optional[float] = None, ctx: Optional[Context] = None) -> None:
        _wait(timeout, ctx, plib.weft_mutex_try_lock, lib.weft_mutex_lock_until, lib.weft_mutex_lock_ctx,
              self.handle)

    def try_lock(self) -> bool:
        rc = lib.weft_mutex_try_lock(self.handle)
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def unlock(self) -> None:
        """Raises NotOwner when not locked."""
        check(lib.weft_mutex_unlock(self.handle))

    def lock_async(self, timeout: Optional[float] = None,
                   ctx: Optional[Context] = None) -> Coroutine[Any, Any, None]:
        """Cancel-safe: a lock that was granted to a cancelled awaiter is unlocked."""
        return aio.mutex_lock(self, timeout, ctx)

    def __enter__(self) -> Mutex:
        self.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    async def __aenter__(self) -> Mutex:
        await self.lock_async()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.unlock()


class RWMutex(Handle):
    """Readers share, writers exclude; `with rw.reader:` / `with rw.writer:`."""
    _release_fn = "weft_rwmutex_release"
    _retain_fn = "weft_rwmutex_retain"

    def __init__(self) -> None:
        super().__init__(_make(lib.weft_rwmutex_make))

    def rlock(self, timeout: Optional[float] = None, ctx: Optional[Context] = None) -> None:
        _wait(timeout, ctx, plib.weft_rwmutex_try_rlock, lib.weft_rwmutex_rlock_until,
              lib.weft_rwmutex_rlock_ctx, self.handle)

    def try_rlock(self) -> bool:
        rc = lib.weft_rwmutex_try_rlock(self.handle)
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def runlock(self) -> None:
        check(lib.weft_rwmutex_runlock(self.handle))

    def lock(self, timeout: Optional[float] = None, ctx: Optional[Context] = None) -> None:
        _wait(timeout, ctx, plib.weft_rwmutex_try_lock, lib.weft_rwmutex_lock_until,
              lib.weft_rwmutex_lock_ctx, self.handle)

    def try_lock(self) -> bool:
        rc = lib.weft_rwmutex_try_lock(self.handle)
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def unlock(self) -> None:
        check(lib.weft_rwmutex_unlock(self.handle))

    @property
    @contextlib.contextmanager
    def reader(self) -> Iterator[RWMutex]:
        self.rlock()
        try:
            yield self
        finally:
            self.runlock()

    @property
    @contextlib.contextmanager
    def writer(self) -> Iterator[RWMutex]:
        self.lock()
        try:
            yield self
        finally:
            self.unlock()


class Semaphore(Handle):
    """A weighted semaphore of `capacity` units; `with sem:` takes one."""
    _release_fn = "weft_sem_release"
    _retain_fn = "weft_sem_retain"

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise InvalidArgument("Semaphore: capacity must be an int >= 0, not %r" % (capacity,))
        super().__init__(_make(lib.weft_sem_make, capacity))

    def acquire(self, n: int = 1, timeout: Optional[float] = None, ctx: Optional[Context] = None) -> None:
        _wait(timeout, ctx, plib.weft_sem_try_acquire, lib.weft_sem_acquire_until, lib.weft_sem_acquire_ctx,
              self.handle, int(n))

    def try_acquire(self, n: int = 1) -> bool:
        rc = lib.weft_sem_try_acquire(self.handle, int(n))
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def release(self, n: int = 1) -> None:
        """Returns n units (OutOfRange if more than are held). Note: the handle
        itself is released by close() or the garbage collector."""
        check(lib.weft_sem_put(self.handle, int(n)))

    def close(self) -> None:
        Handle.release(self)

    def __del__(self) -> None:
        try:
            if getattr(self, "_h", None) is not None:
                Handle.release(self)
        except Exception:
            pass

    def acquire_async(self, n: int = 1, timeout: Optional[float] = None,
                      ctx: Optional[Context] = None) -> Coroutine[Any, Any, None]:
        """Cancel-safe: units granted to a cancelled awaiter are put back."""
        return aio.sem_acquire(self, int(n), timeout, ctx)

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    async def __aenter__(self) -> Semaphore:
        await self.acquire_async()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class Once:
    """Runs a Python callable exactly once over all do() calls; concurrent
    callers wait until it returned (Go's sync.Once). Implemented with a weft
    Mutex: weft_once_do would run the callable on a task stack."""

    def __init__(self) -> None:
        self._mu = Mutex()
        self._done = False

    def do(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._done:
            return
        with self._mu:
            if not self._done:
                try:
                    fn(*args, **kwargs)
                finally:
                    self._done = True

    @property
    def done(self) -> bool:
        return self._done


class Cond(Handle):
    """A condition variable tied to a weft Mutex."""
    _release_fn = "weft_cond_release"
    _retain_fn = "weft_cond_retain"

    def __init__(self, mutex: Optional[Mutex] = None) -> None:
        if mutex is None:
            mutex = Mutex()
        if not isinstance(mutex, Mutex):
            raise InvalidArgument("Cond needs a weft.Mutex")
        self.mutex = mutex
        super().__init__(_make(lib.weft_cond_make, mutex.handle))

    def wait(self, timeout: Optional[float] = None, ctx: Optional[Context] = None) -> None:
        """Unlocks the mutex, waits for a signal, locks it again. NotOwner when
        the mutex is not locked."""
        _wait(timeout, ctx, None, lib.weft_cond_wait_until, lib.weft_cond_wait_ctx,
              self.handle)

    def signal(self) -> None:
        check(lib.weft_cond_signal(self.handle))

    def broadcast(self) -> None:
        check(lib.weft_cond_broadcast(self.handle))

    def __enter__(self) -> Cond:
        self.mutex.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mutex.unlock()
