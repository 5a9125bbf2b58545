"""Runtime lifecycle, tasks, time and introspection."""
import os
from ctypes import byref, c_void_p, sizeof

from . import _core, _ffi
from .errors import InvalidArgument, check

lib = _ffi.lib


def init(workers=0, stack_size=0, shutdown_grace=None):
    """Starts the runtime with these settings (optional: first use starts it
    with the defaults). Raises Busy once started."""
    cfg = _ffi.weft_config()
    lib.weft_config_init(byref(cfg))
    cfg.workers = workers
    cfg.stack_size = stack_size
    if shutdown_grace is not None:
        cfg.shutdown_grace_ns = int(shutdown_grace * 1e9)
    check(lib.weft_init(byref(cfg)))


def shutdown():
    """Stops the runtime (waits for live tasks up to the grace period). True
    when every task finished."""
    return lib.weft_shutdown() == 0


def version():
    return lib.weft_version_string().decode()


def now_ns():
    """The monotonic clock of every weft deadline."""
    return lib.weft_now_ns()


def sleep(seconds):
    """Sleeps (blocks this thread; the GIL is released)."""
    check(lib.weft_sleep_ns(int(seconds * 1e9)))


def _pool_submit(fn, args, kwargs):
    return _core.pool.submit(fn, args, kwargs)


def go(fn, *args, **kwargs):
    """Runs fn(*args, **kwargs) concurrently on a thread the binding manages
    (Python code never runs on a weft task stack). Returns a
    concurrent.futures.Future of its result."""
    if not callable(fn):
        raise InvalidArgument("go() needs a callable")
    return _core.pool.submit(fn, args, kwargs)


def go_native(fn_address, arg=None, stack_size=0, name=None):
    """Spawns a weft task running a native C function void fn(void *arg), given
    by address (e.g. ctypes.cast(lib.my_fn, c_void_p).value). The function runs
    on a task stack: it must not call into Python."""
    if isinstance(fn_address, c_void_p):
        fn_address = fn_address.value
    if not isinstance(fn_address, int) or fn_address == 0:
        raise InvalidArgument("go_native needs the address of a C function")
    if stack_size or name:
        opts = _ffi.weft_task_opts()
        lib.weft_task_opts_init(byref(opts))
        opts.stack_size = stack_size
        opts.name = name.encode() if name else None
        check(lib.weft_go_opts(fn_address, arg, byref(opts)))
    else:
        check(lib.weft_go(fn_address, arg))


def stats():
    """weft_stats as a dict (runq_len: one entry per worker)."""
    s = _ffi.weft_stats()
    s.size = sizeof(s)
    check(lib.weft_stats_get(byref(s)))
    out = {name: getattr(s, name) for name, _ in _ffi.weft_stats._fields_
           if name not in ("size", "runq_len")}
    out["runq_len"] = list(s.runq_len[:min(s.workers, _ffi.STATS_MAX_WORKERS)])
    out["python_threads"] = _core.pool.threads
    out["registry"] = _core.registry_size()
    return out


def dump_tasks(fd=2):
    """Writes one line per live task to fd (default stderr)."""
    if hasattr(fd, "fileno"):
        fd.flush()
        fd = fd.fileno()
    check(lib.weft_dump_tasks(fd))
