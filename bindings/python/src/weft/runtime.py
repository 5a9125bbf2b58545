"""Runtime lifecycle, tasks, time and introspection."""
from __future__ import annotations

import os
from concurrent.futures import Future
from ctypes import byref, c_void_p, sizeof
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar, Union

if TYPE_CHECKING:
    from .context import Context
    from .sync import Semaphore

R = TypeVar("R")

from . import _core, _ffi
from .errors import InvalidArgument, WeftError, check

lib = _ffi.lib


def init(workers: int = 0, stack_size: int = 0, shutdown_grace: Optional[float] = None) -> None:
    """Starts the runtime with these settings (optional: first use starts it
    with the defaults). Raises Busy once started."""
    cfg = _ffi.weft_config()
    lib.weft_config_init(byref(cfg))
    cfg.workers = workers
    cfg.stack_size = stack_size
    if shutdown_grace is not None:
        cfg.shutdown_grace_ns = int(shutdown_grace * 1e9)
    check(lib.weft_init(byref(cfg)))


def shutdown() -> bool:
    """Stops the runtime (waits for live tasks up to the grace period). True
    when every task finished."""
    return lib.weft_shutdown() == 0


def version() -> str:
    return lib.weft_version_string().decode()


def now_ns() -> int:
    """The monotonic clock of every weft deadline."""
    return lib.weft_now_ns()


def sleep(seconds: float) -> None:
    """Sleeps (blocks this thread; the GIL is released; Ctrl-C interrupts it
    on the main thread)."""
    deadline = _core.deadline_ns(_core._seconds(seconds, "sleep: seconds"))
    main = _core._get_ident() == _core._MAIN
    while True:
        step = min(deadline, lib.weft_now_ns() + _core.SLICE_NS) if main else deadline
        check(lib.weft_sleep_until(step))
        if step == deadline:
            return


def _pool_submit(fn: Callable[..., R], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Future[R]:
    return _core.pool.submit(fn, args, kwargs)


def go(fn: Callable[..., R], *args: Any, **kwargs: Any) -> Future[R]:
    """Runs fn(*args, **kwargs) concurrently on a thread the binding manages
    (Python code never runs on a weft task stack), in a copy of the caller's
    contextvars. Returns a concurrent.futures.Future of its result
    (asyncio.wrap_future works); an exception nobody retrieves goes to
    threading.excepthook."""
    if not callable(fn):
        raise InvalidArgument("go: fn must be callable, not %r" % (fn,))
    return _core.pool.submit(fn, args, kwargs)


def collect(calls: Iterable[Callable[[], R]], limit: Optional[int] = None,
            ctx: Optional[Context] = None) -> Tuple[List[Optional[R]], List[Optional[BaseException]]]:
    """Runs every callable of calls (at most limit at once) on binding threads
    and waits for all: returns (values, errors), both in calls' order, with
    values[i] None where errors[i] holds the exception (partial success, like
    weft_collect: one failure does not stop the others). Once ctx ends, calls
    not yet started get Canceled."""
    import concurrent.futures

    from .sync import Semaphore
    calls = list(calls)
    for i, fn in enumerate(calls):
        if not callable(fn):
            raise InvalidArgument("collect: calls[%d] is %r, not a callable" % (i, fn))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidArgument("collect: limit must be an int >= 0 or None, not %r" % (limit,))
    sem = Semaphore(limit) if limit else None
    futures: List[Future[R]] = []
    for fn in calls:
        try:
            if ctx is not None and ctx.err is not None:
                raise ctx.err
            if sem is not None:
                sem.acquire(ctx=ctx)
        except WeftError as exc:  # ctx ended: this call never starts
            failed: Future[R] = concurrent.futures.Future()
            failed.set_exception(exc)
            futures.append(failed)
            continue
        futures.append(_core.pool.submit(_with_slot, (fn, sem), {}, report=False))
    concurrent.futures.wait(futures)
    values = [None if f.exception() is not None else f.result() for f in futures]
    errors = [f.exception() for f in futures]
    return values, errors


def _with_slot(fn: Callable[[], R], sem: Optional[Semaphore]) -> R:
    try:
        return fn()
    finally:
        if sem is not None:
            sem.release()


def go_native(fn_address: Union[int, c_void_p], arg: Optional[int] = None, stack_size: int = 0,
              name: Optional[str] = None) -> None:
    """Spawns a weft task running a native C function void fn(void *arg), given
    by address (e.g. ctypes.cast(lib.my_fn, c_void_p).value). The function runs
    on a task stack: it must not call into Python."""
    address = fn_address.value if isinstance(fn_address, c_void_p) else fn_address
    if not isinstance(address, int) or address == 0:
        raise InvalidArgument("go_native needs the address of a C function")
    if stack_size or name:
        opts = _ffi.weft_task_opts()
        lib.weft_task_opts_init(byref(opts))
        opts.stack_size = stack_size
        opts.name = name.encode() if name else None
        check(lib.weft_go_opts(address, arg, byref(opts)))
    else:
        check(lib.weft_go(address, arg))


def stats() -> Dict[str, Any]:
    """weft_stats as a dict (runq_len: one entry per worker)."""
    s = _ffi.weft_stats()
    s.size = sizeof(s)
    check(lib.weft_stats_get(byref(s)))
    out = {name: getattr(s, name) for name, *_ in _ffi.weft_stats._fields_
           if name not in ("size", "runq_len")}
    out["runq_len"] = list(s.runq_len[:min(s.workers, _ffi.STATS_MAX_WORKERS)])
    out["python_threads"] = _core.pool.threads
    out["registry"] = _core.registry_size()
    return out


def dump_tasks(fd: Any = 2) -> None:
    """Writes one line per live task to fd (default stderr)."""
    if hasattr(fd, "fileno"):
        fd.flush()
        fd = fd.fileno()
    check(lib.weft_dump_tasks(fd))
