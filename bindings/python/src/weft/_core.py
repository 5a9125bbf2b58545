"""Binding internals: the object registry behind channels, timeouts, blocking
calls in slices (Ctrl-C), the fork guard, the thread pool that runs Python
callables (never a task stack)."""
from __future__ import annotations

import contextvars
import ctypes
import itertools
import os
import queue
import sys
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Optional, Tuple

from . import _ffi
from .errors import Forked, InvalidArgument

lib = _ffi.lib
plib = _ffi.plib


# ------------------------------------------------------------- registry
# Channels carry int64 tokens; the objects stay here. send registers, a
# successful receive pops: each object is delivered exactly once.

_objects: Dict[int, Any] = {}
_next_token = itertools.count(1)  # next() is atomic under the GIL


def register(obj: Any) -> int:
    token = next(_next_token)
    _objects[token] = obj
    return token


def take(token: int) -> Any:
    return _objects.pop(token)


def drop(token: int) -> None:
    _objects.pop(token, None)


def registry_size() -> int:
    """Objects currently in flight through channels (for leak checks)."""
    return len(_objects)


# ------------------------------------------------------------- time


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument("%s must be a number of seconds, not %r" % (what, value))
    return value


def deadline_ns(timeout: Optional[float], what: str = "timeout") -> int:
    """Absolute weft deadline for a timeout in seconds (None: no deadline)."""
    if timeout is None:
        return _ffi.NO_DEADLINE
    timeout = _seconds(timeout, what)
    if timeout != timeout or timeout < 0:  # NaN or negative: already passed
        timeout = 0
    return plib.weft_now_ns() + int(min(timeout, 1e9) * 1e9)


def seconds_to_ns(seconds: Optional[float], what: str = "seconds") -> int:
    if seconds is None:
        raise InvalidArgument("%s: a duration is required" % what)
    return int(_seconds(seconds, what) * 1e9)


# ------------------------------------------------------------- blocking calls
# CPython runs signal handlers between bytecodes, never inside a C call: the
# main thread waits in slices of the deadline form, so Ctrl-C reaches it within
# SLICE_NS. A slice that times out has no effect (nothing received, sent,
# locked), so the next slice starts from the same state.

SLICE_NS = 50_000_000
_MAIN = threading.main_thread().ident
_get_ident = threading.get_ident


def wait(until: Callable[..., int], with_ctx: Optional[Callable[..., int]], args: Tuple[Any, ...],
         timeout: Optional[float], ctx: Any, forever: bool = False) -> int:
    """One blocking call: until(*args, deadline_ns) or with_ctx(*args, ctx
    handle), on the main thread in slices. forever: slice on every thread (a
    call that would report EDEADLK without a deadline, e.g. select([]))."""
    deadline = deadline_ns(timeout)
    sliced = forever or _get_ident() == _MAIN
    step_ns = SLICE_NS if _get_ident() == _MAIN else 1_000_000_000
    if ctx is None:
        if not sliced:
            return until(*args, deadline)
        while True:
            step = min(deadline, plib.weft_now_ns() + step_ns)
            rc = until(*args, step)
            if rc != _ffi.ETIMEDOUT or step == deadline:
                return rc
    h = ctx.handle
    assert with_ctx is not None
    if not sliced and deadline == _ffi.NO_DEADLINE:
        return with_ctx(*args, h)
    sub = ctypes.c_void_p()
    while True:
        step = min(deadline, plib.weft_now_ns() + step_ns) if sliced else deadline
        rc = plib.weft_ctx_with_deadline(h, step, ctypes.byref(sub))
        if rc < 0:
            return rc
        try:
            rc = with_ctx(*args, sub.value)
        finally:
            plib.weft_ctx_cancel(sub.value)
            lib.weft_ctx_release(sub.value)
        if rc == _ffi.ETIMEDOUT or rc == _ffi.ECANCELED:
            err = plib.weft_ctx_err(h)
            if err < 0:
                return err
            if step == deadline:
                return _ffi.ETIMEDOUT
            continue
        return rc


# ------------------------------------------------------------- fork
# Weft's worker threads and loops do not exist in a forked child: a call there
# would hang. After fork, every weft_* function in the child raises Forked at
# once; a child that never touches Weft (multiprocessing's fork start method)
# runs normally.

forked = False


def _refuse(name: str) -> Callable[..., Any]:
    def refused(*args: Any) -> Any:
        raise Forked("weft: %s called in a process forked (pid %d) after the parent "
                     "loaded Weft: its runtime threads are not in this child; use the "
                     "'spawn' or 'forkserver' start method, or exec" % (name, os.getpid()))
    return refused


def _after_fork_in_child() -> None:
    global forked
    forked = True
    for name in _ffi.PROTOTYPES:
        stub = _refuse(name)
        setattr(lib, name, stub)
        setattr(plib, name, stub)
    pool.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ------------------------------------------------------------- thread pool


class ThreadPool:
    """A cached pool: an idle thread takes the job, otherwise a new thread starts
    (like Go, every go() runs concurrently: a bounded pool could deadlock when
    jobs wait on each other). Idle threads exit after idle_timeout seconds."""

    def __init__(self, idle_timeout: float = 10.0, name: str = "weft-go") -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._idle = 0      # idle threads not yet promised a job
        self._threads = 0
        self._timeout = idle_timeout
        self._name = name
        self._seq = itertools.count(1)

    def reset_after_fork(self) -> None:
        """The pool's threads did not survive fork."""
        self._lock = threading.Lock()
        self._jobs = queue.SimpleQueue()
        self._idle = 0
        self._threads = 0

    def submit(self, fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any],
               report: bool = True) -> Future[Any]:
        """Runs fn(*args, **kwargs) in a copy of the caller's contextvars. An
        exception nobody retrieves (result()/exception()/a done callback) is
        reported through threading.excepthook when the future is collected."""
        if forked:
            raise _refuse("go")()
        future: Future[Any] = _ReportingFuture() if report else Future()
        ctx = contextvars.copy_context()
        fn_in_ctx = ctx.run
        args = (fn,) + tuple(args)
        fn = fn_in_ctx
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
                spawn = False
            else:
                self._threads += 1
                spawn = True
        self._jobs.put((future, fn, args, kwargs))
        if spawn:
            threading.Thread(target=self._run, name="%s-%d" % (self._name, next(self._seq)),
                             daemon=True).start()
        return future

    @property
    def threads(self) -> int:
        return self._threads

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self._timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody promised us a job: leave
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue  # a job was promised to an idle thread: it is coming
            future, fn, args, kwargs = job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - delivered through the future
                    if isinstance(future, _ReportingFuture):
                        future._thread_name = threading.current_thread().name
                    future.set_exception(exc)
                    del exc
                else:
                    future.set_result(result)
            del job, future, fn, args, kwargs
            with self._lock:
                self._idle += 1


class _ReportingFuture(Future):  # type: ignore[type-arg]
    """A Future whose exception, if nobody looked at it, goes to
    threading.excepthook when the future is garbage collected (like an
    exception in a threading.Thread)."""
    _retrieved = False
    _thread_name: Optional[str] = None

    def result(self, timeout: Optional[float] = None) -> Any:
        self._retrieved = True
        return super().result(timeout)

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        self._retrieved = True
        return super().exception(timeout)

    def add_done_callback(self, fn: Callable[[Any], object]) -> None:
        self._retrieved = True
        super().add_done_callback(fn)

    def __del__(self) -> None:
        if self._retrieved or self._exception is None:
            return
        exc = self._exception
        try:
            args = threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, None))
        except Exception:  # noqa: BLE001
            return
        try:
            threading.excepthook(args)
        except Exception:  # noqa: BLE001 - like Thread, never raise from here
            pass


pool = ThreadPool()
