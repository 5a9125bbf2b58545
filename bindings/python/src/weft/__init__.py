"""weft: Go-style concurrency (channels, select, WaitGroup, mutexes, contexts,
errgroup) for Python threads and asyncio, on the Weft runtime (libweft.so,
through ctypes).

Python code never runs on a weft task stack: go() runs Python callables on
threads the binding manages; go_native() spawns C functions as weft tasks; the
*_async methods and `async for` bridge weft operations into asyncio.
"""
from ._core import registry_size
from ._ffi import LIB_PATH, NO_DEADLINE
from .channel import Case, Channel, Recv, Selected, Send, Timer, after, select, select_async, ticker
from .context import (AfterFunc, Context, Group, background, with_cancel, with_deadline, with_signals,
                      with_timeout, with_value)
from .errors import (Busy, Canceled, Closed, Deadlock, Forked, InvalidArgument, NoMemory, NotOwner,
                     OutOfRange, Shutdown, Timeout, WeftError, WouldBlock)
from .runtime import collect, dump_tasks, go, go_native, init, now_ns, shutdown, sleep, stats, version
from .sync import Cond, Mutex, Once, RWMutex, Semaphore, WaitGroup

__version__ = "0.2.0"

__all__ = [
    "Case", "Channel", "Recv", "Send", "Selected", "Timer", "after", "select", "select_async", "ticker",
    "AfterFunc", "Context", "Group", "background", "with_cancel", "with_deadline", "with_signals",
    "with_timeout", "with_value",
    "WeftError", "Busy", "Canceled", "Closed", "Deadlock", "Forked", "InvalidArgument", "NoMemory",
    "NotOwner", "OutOfRange", "Shutdown", "Timeout", "WouldBlock",
    "collect", "dump_tasks", "go", "go_native", "init", "now_ns", "shutdown", "sleep", "stats", "version",
    "Cond", "Mutex", "Once", "RWMutex", "Semaphore", "WaitGroup",
    "registry_size", "LIB_PATH", "NO_DEADLINE",
]
