"""One exception class per WEFT_E* code, each carrying weft_strerror's text."""
from __future__ import annotations

from typing import Optional

from . import _ffi


class WeftError(Exception):
    """Base of every weft error; .code is the negative WEFT_E* value."""
    code: Optional[int] = None

    def __init__(self, message: Optional[str] = None, code: Optional[int] = None) -> None:
        if code is not None:
            self.code = code
        if message is None:
            message = _ffi.plib.weft_strerror(self.code or 0).decode()
        super().__init__(message)

    @property
    def name(self) -> str:
        return str(_ffi.plib.weft_err_name(self.code or 0).decode())


class NotOwner(WeftError):          # WEFT_EPERM
    code = _ffi.EPERM


class WouldBlock(WeftError):        # WEFT_EAGAIN
    code = _ffi.EAGAIN


class NoMemory(WeftError, MemoryError):  # WEFT_ENOMEM
    code = _ffi.ENOMEM


class Busy(WeftError):              # WEFT_EBUSY
    code = _ffi.EBUSY


class InvalidArgument(WeftError, ValueError):  # WEFT_EINVAL
    code = _ffi.EINVAL


class Closed(WeftError):            # WEFT_ECLOSED
    code = _ffi.ECLOSED


class OutOfRange(WeftError, ValueError):  # WEFT_ERANGE
    code = _ffi.ERANGE


class Deadlock(WeftError):          # WEFT_EDEADLK
    code = _ffi.EDEADLK


class Shutdown(WeftError):          # WEFT_ESHUTDOWN
    code = _ffi.ESHUTDOWN


class Timeout(WeftError, TimeoutError):  # WEFT_ETIMEDOUT
    code = _ffi.ETIMEDOUT


class Canceled(WeftError):          # WEFT_ECANCELED
    code = _ffi.ECANCELED


class Forked(WeftError, RuntimeError):
    """A weft call in a process forked after the parent loaded Weft."""


BY_CODE = {cls.code: cls for cls in (NotOwner, WouldBlock, NoMemory, Busy, InvalidArgument,
                                     Closed, OutOfRange, Deadlock, Shutdown, Timeout, Canceled)}


def error(code: int, detail: Optional[str] = None) -> WeftError:
    """The exception instance for a negative code (unknown codes: WeftError);
    detail (e.g. the argument at fault) is prepended to weft_strerror's text."""
    cls = BY_CODE.get(code)
    if cls is None:
        return WeftError(code=code)
    if detail is not None:
        return cls("%s: %s" % (detail, _ffi.plib.weft_strerror(code).decode()))
    return cls()


def check(rc: int) -> int:
    """Returns rc when it is >= 0, raises its exception otherwise."""
    if rc < 0:
        raise error(rc)
    return rc
