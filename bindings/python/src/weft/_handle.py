"""Reference-counted weft handles owned by Python objects: released exactly once,
by close()/release() or by the garbage collector."""
import threading

from . import _ffi


class Handle:
    _release_fn = None  # name of the weft_*_release function

    def __init__(self, address):
        self._h = address
        self._release_lock = threading.Lock()

    @property
    def handle(self):
        """The raw weft handle (an int), for passing to C code."""
        h = self._h
        if h is None:
            from .errors import InvalidArgument
            raise InvalidArgument("handle already released")
        return h

    def release(self):
        """Drops this object's reference to the weft handle (idempotent)."""
        with self._release_lock:
            h, self._h = self._h, None
            if h is None:
                return
            self._before_release_handle(h)
            getattr(_ffi.lib, self._release_fn)(h)

    def _before_release_handle(self, h):
        pass

    def __del__(self):
        try:
            if getattr(self, "_h", None) is not None:
                self.release()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, hex(self._h) if self._h else "released")
