"""Binding internals: the object registry behind channels, timeouts, the thread
pool that runs Python callables (never a task stack)."""
import itertools
import queue
import threading
from concurrent.futures import Future

from . import _ffi
from .errors import InvalidArgument

lib = _ffi.lib


# ------------------------------------------------------------- registry
# Channels carry int64 tokens; the objects stay here. send registers, a
# successful receive pops: each object is delivered exactly once.

_objects = {}
_next_token = itertools.count(1)  # next() is atomic under the GIL


def register(obj):
    token = next(_next_token)
    _objects[token] = obj
    return token


def take(token):
    return _objects.pop(token)


def drop(token):
    _objects.pop(token, None)


def registry_size():
    """Objects currently in flight through channels (for leak checks)."""
    return len(_objects)


# ------------------------------------------------------------- time


def deadline_ns(timeout):
    """Absolute weft deadline for a timeout in seconds (None: no deadline)."""
    if timeout is None:
        return _ffi.NO_DEADLINE
    if timeout != timeout or timeout < 0:  # NaN or negative: already passed
        timeout = 0
    return lib.weft_now_ns() + int(timeout * 1e9)


def seconds_to_ns(seconds):
    if seconds is None:
        raise InvalidArgument("a duration is required")
    return int(seconds * 1e9)


# ------------------------------------------------------------- thread pool


class ThreadPool:
    """A cached pool: an idle thread takes the job, otherwise a new thread starts
    (like Go, every go() runs concurrently: a bounded pool could deadlock when
    jobs wait on each other). Idle threads exit after idle_timeout seconds."""

    def __init__(self, idle_timeout=10.0, name="weft-go"):
        self._lock = threading.Lock()
        self._jobs = queue.SimpleQueue()
        self._idle = 0      # idle threads not yet promised a job
        self._threads = 0
        self._timeout = idle_timeout
        self._name = name
        self._seq = itertools.count(1)

    def submit(self, fn, args, kwargs):
        future = Future()
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
    def threads(self):
        return self._threads

    def _run(self):
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
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del job, future, fn, args, kwargs
            with self._lock:
                self._idle += 1


pool = ThreadPool()
