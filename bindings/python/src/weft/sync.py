"""WaitGroup, Mutex, RWMutex, Semaphore, Once, Cond: weft's task-aware primitives,
usable from any Python thread (and, with the *_async forms, from asyncio)."""
import contextlib
from ctypes import byref, c_void_p

from . import _core, _ffi
from ._handle import Handle
from .errors import InvalidArgument, check

lib = _ffi.lib
plib = _ffi.plib


def _wait(timeout, ctx, try_fn, until, with_ctx, *args):
    """One blocking call: the non-blocking form first (try_fn, GIL kept), then
    the _until / _ctx form (in slices on the main thread: Ctrl-C works)."""
    if try_fn is not None:
        rc = try_fn(*args)
        if rc != _ffi.EAGAIN:
            return check(rc)
    return check(_core.wait(until, with_ctx, args, timeout, ctx))


def _make(fn, *args):
    out = c_void_p()
    check(fn(*args, byref(out)))
    return out.value


class WaitGroup(Handle):
    _release_fn = "weft_wg_release"

    def __init__(self):
        super().__init__(_make(lib.weft_wg_make))

    def add(self, delta=1):
        """Raises OutOfRange when the counter would go below zero."""
        check(lib.weft_wg_add(self.handle, int(delta)))

    def done(self):
        check(lib.weft_wg_done(self.handle))

    def wait(self, timeout=None, ctx=None):
        _wait(timeout, ctx, None, lib.weft_wg_wait_until, lib.weft_wg_wait_ctx, self.handle)

    async def wait_async(self, timeout=None, ctx=None):
        from . import aio
        return await aio.wg_wait(self, timeout, ctx)

    def go(self, fn, *args, **kwargs):
        """add(1), run fn on a binding thread, done() when it returns (Go's wg.Go).
        Returns a concurrent.futures.Future of fn's result."""
        from .runtime import _pool_submit
        self.add(1)

        def body():
            try:
                return fn(*args, **kwargs)
            finally:
                self.done()
        return _pool_submit(body, (), {})


class Mutex(Handle):
    """A task-aware mutex; `with mu:` and `async with mu:` lock and unlock."""
    _release_fn = "weft_mutex_release"

    def __init__(self):
        super().__init__(_make(lib.weft_mutex_make))

    def lock(self, timeout=None, ctx=None):
        _wait(timeout, ctx, plib.weft_mutex_try_lock, lib.weft_mutex_lock_until, lib.weft_mutex_lock_ctx,
              self.handle)

    def try_lock(self):
        rc = lib.weft_mutex_try_lock(self.handle)
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def unlock(self):
        """Raises NotOwner when not locked."""
        check(lib.weft_mutex_unlock(self.handle))

    async def lock_async(self, timeout=None, ctx=None):
        from . import aio
        return await aio.mutex_lock(self, timeout, ctx)

    def __enter__(self):
        self.lock()
        return self

    def __exit__(self, *exc):
        self.unlock()

    async def __aenter__(self):
        await self.lock_async()
        return self

    async def __aexit__(self, *exc):
        self.unlock()


class RWMutex(Handle):
    """Readers share, writers exclude; `with rw.reader:` / `with rw.writer:`."""
    _release_fn = "weft_rwmutex_release"

    def __init__(self):
        super().__init__(_make(lib.weft_rwmutex_make))

    def rlock(self, timeout=None, ctx=None):
        _wait(timeout, ctx, plib.weft_rwmutex_try_rlock, lib.weft_rwmutex_rlock_until,
              lib.weft_rwmutex_rlock_ctx, self.handle)

    def try_rlock(self):
        rc = lib.weft_rwmutex_try_rlock(self.handle)
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def runlock(self):
        check(lib.weft_rwmutex_runlock(self.handle))

    def lock(self, timeout=None, ctx=None):
        _wait(timeout, ctx, plib.weft_rwmutex_try_lock, lib.weft_rwmutex_lock_until,
              lib.weft_rwmutex_lock_ctx, self.handle)

    def try_lock(self):
        rc = lib.weft_rwmutex_try_lock(self.handle)
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def unlock(self):
        check(lib.weft_rwmutex_unlock(self.handle))

    @property
    @contextlib.contextmanager
    def reader(self):
        self.rlock()
        try:
            yield self
        finally:
            self.runlock()

    @property
    @contextlib.contextmanager
    def writer(self):
        self.lock()
        try:
            yield self
        finally:
            self.unlock()


class Semaphore(Handle):
    """A weighted semaphore of `capacity` units; `with sem:` takes one."""
    _release_fn = "weft_sem_release"

    def __init__(self, capacity):
        super().__init__(_make(lib.weft_sem_make, int(capacity)))

    def acquire(self, n=1, timeout=None, ctx=None):
        _wait(timeout, ctx, plib.weft_sem_try_acquire, lib.weft_sem_acquire_until, lib.weft_sem_acquire_ctx,
              self.handle, int(n))

    def try_acquire(self, n=1):
        rc = lib.weft_sem_try_acquire(self.handle, int(n))
        if rc == _ffi.EAGAIN:
            return False
        check(rc)
        return True

    def release(self, n=1):
        """Returns n units (OutOfRange if more than are held). Note: the handle
        itself is released by close() or the garbage collector."""
        check(lib.weft_sem_put(self.handle, int(n)))

    def close(self):
        Handle.release(self)

    def __del__(self):
        try:
            if getattr(self, "_h", None) is not None:
                Handle.release(self)
        except Exception:
            pass

    async def acquire_async(self, n=1, timeout=None, ctx=None):
        from . import aio
        return await aio.sem_acquire(self, int(n), timeout, ctx)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    async def __aenter__(self):
        await self.acquire_async()
        return self

    async def __aexit__(self, *exc):
        self.release()


class Once:
    """Runs a Python callable exactly once over all do() calls; concurrent
    callers wait until it returned (Go's sync.Once). Implemented with a weft
    Mutex: weft_once_do would run the callable on a task stack."""

    def __init__(self):
        self._mu = Mutex()
        self._done = False

    def do(self, fn, *args, **kwargs):
        if self._done:
            return
        with self._mu:
            if not self._done:
                try:
                    fn(*args, **kwargs)
                finally:
                    self._done = True

    @property
    def done(self):
        return self._done


class Cond(Handle):
    """A condition variable tied to a weft Mutex."""
    _release_fn = "weft_cond_release"

    def __init__(self, mutex=None):
        if mutex is None:
            mutex = Mutex()
        if not isinstance(mutex, Mutex):
            raise InvalidArgument("Cond needs a weft.Mutex")
        self.mutex = mutex
        super().__init__(_make(lib.weft_cond_make, mutex.handle))

    def wait(self, timeout=None, ctx=None):
        """Unlocks the mutex, waits for a signal, locks it again. NotOwner when
        the mutex is not locked."""
        _wait(timeout, ctx, None, lib.weft_cond_wait_until, lib.weft_cond_wait_ctx,
              self.handle)

    def signal(self):
        check(lib.weft_cond_signal(self.handle))

    def broadcast(self):
        check(lib.weft_cond_broadcast(self.handle))

    def __enter__(self):
        self.mutex.lock()
        return self

    def __exit__(self, *exc):
        self.mutex.unlock()
