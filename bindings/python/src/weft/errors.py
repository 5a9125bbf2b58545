"""One exception class per WEFT_E* code, each carrying weft_strerror's text."""
from . import _ffi


class WeftError(Exception):
    """Base of every weft error; .code is the negative WEFT_E* value."""
    code = None

    def __init__(self, message=None, code=None):
        if code is not None:
            self.code = code
        if message is None:
            message = _ffi.lib.weft_strerror(self.code or 0).decode()
        super().__init__(message)

    @property
    def name(self):
        return _ffi.lib.weft_err_name(self.code or 0).decode()


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


BY_CODE = {cls.code: cls for cls in (NotOwner, WouldBlock, NoMemory, Busy, InvalidArgument,
                                     Closed, OutOfRange, Deadlock, Shutdown, Timeout, Canceled)}


def error(code):
    """The exception instance for a negative code (unknown codes: WeftError)."""
    cls = BY_CODE.get(code)
    if cls is None:
        return WeftError(code=code)
    return cls()


def check(rc):
    """Returns rc when it is >= 0, raises its exception otherwise."""
    if rc < 0:
        raise error(rc)
    return rc
