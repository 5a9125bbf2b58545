"""Reference-counted weft handles owned by Python objects: released exactly once,
by close()/release() or by the garbage collector. copy.copy() takes a new
reference (weft_*_retain), so the copy and the original each release their own."""
from __future__ import annotations

import threading
from typing import Any, Dict, Optional, TypeVar

from . import _ffi

H = TypeVar("H", bound="Handle")


class Handle:
    _release_fn = ""  # name of the weft_*_release function
    _retain_fn = ""   # name of the weft_*_retain function

    def __init__(self, address: int) -> None:
        self._h: Optional[int] = address
        self._release_lock = threading.Lock()

    @property
    def handle(self) -> int:
        """The raw weft handle (an int), for passing to C code."""
        h = self._h
        if h is None:
            from .errors import InvalidArgument
            raise InvalidArgument("%s: handle already released" % type(self).__name__)
        return h

    def release(self) -> None:
        """Drops this object's reference to the weft handle (idempotent)."""
        with self._release_lock:
            h, self._h = self._h, None
            if h is None:
                return
            self._before_release_handle(h)
            getattr(_ffi.lib, self._release_fn)(h)

    def _before_release_handle(self, h: int) -> None:
        pass

    def __del__(self) -> None:
        try:
            if getattr(self, "_h", None) is not None:
                self.release()
        except Exception:  # interpreter shutdown (modules may be gone), or a forked child
            pass

    def __copy__(self: H) -> H:
        cls = type(self)
        new = cls.__new__(cls)
        d: Dict[str, Any] = dict(self.__dict__)
        d["_release_lock"] = threading.Lock()
        if self._h is not None:
            d["_h"] = getattr(_ffi.plib, self._retain_fn)(self._h)
        new.__dict__.update(d)
        return new

    def __deepcopy__(self: H, memo: Dict[int, Any]) -> H:
        return self.__copy__()

    def _state(self) -> str:
        """What repr shows besides the handle (subclasses add state)."""
        return ""

    def __repr__(self) -> str:
        if self._h is None:
            return "<weft.%s released>" % type(self).__name__
        try:
            state = self._state()
        except Exception:  # noqa: BLE001 - repr never raises
            state = "?"
        return "<weft.%s %s%s>" % (type(self).__name__, hex(self._h), " " + state if state else "")

