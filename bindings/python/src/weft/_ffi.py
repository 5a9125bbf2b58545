"""Raw ctypes prototypes for include/weft.h (every function, argtypes and restype).

Function-pointer parameters (weft_fn, weft_group_fn, weft_future_fn, destructors)
are declared as plain addresses (c_void_p): the binding never builds a ctypes
callback, because the runtime calls those pointers on task stacks and worker
threads, where Python code must never run (see bindings/python/README.md).

The library is found inside this package first (a wheel), then through $WEFT_LIB,
then in the built checkout, then on the system (see _find_library).
"""
import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_char_p, c_int, c_int32, c_int64, c_size_t,
                    c_uint, c_uint32, c_uint64, c_void_p)

# The header version this module was written for (weft.h WEFT_VERSION_*).
HEADER_VERSION = (0, 2, 0)
HEADER_VERSION_HEX = (HEADER_VERSION[0] << 16) | (HEADER_VERSION[1] << 8) | HEADER_VERSION[2]

# Error codes (WEFT_E*).
OK = 0
EPERM = -1
EAGAIN = -11
ENOMEM = -12
EBUSY = -16
EINVAL = -22
ECLOSED = -32
ERANGE = -34
EDEADLK = -35
ESHUTDOWN = -108
ETIMEDOUT = -110
ECANCELED = -125

NO_DEADLINE = 2**63 - 1
CASE_RECV = 1
CASE_SEND = 2
SELECT_DEFAULT = 1
STATS_MAX_WORKERS = 64


class weft_config(Structure):
    _fields_ = [("size", c_size_t), ("workers", c_uint), ("stack_size", c_size_t),
                ("shutdown_grace_ns", c_int64)]


class weft_task_opts(Structure):
    _fields_ = [("size", c_size_t), ("stack_size", c_size_t), ("name", c_char_p)]


class weft_stats(Structure):
    _fields_ = [("size", c_size_t), ("workers", c_uint32), ("tasks_live", c_uint64),
                ("tasks_parked", c_uint64), ("tasks_spawned", c_uint64),
                ("tasks_finished", c_uint64), ("switches", c_uint64), ("steals", c_uint64),
                ("timers_pending", c_uint64), ("runq_len", c_uint32 * STATS_MAX_WORKERS),
                ("deadlocked", c_uint32)]


class weft_chan_opts(Structure):
    _fields_ = [("size", c_size_t), ("elem_dtor", c_void_p)]


class weft_case(Structure):
    _fields_ = [("chan", c_void_p), ("op", c_int), ("elem", c_void_p), ("result", c_int)]


class weft_job(Structure):
    _fields_ = [("fn", c_void_p), ("arg", c_void_p)]


class weft_completion(Structure):
    _fields_ = [("tag", c_uint64), ("result", c_int32), ("reserved", c_int32)]


P = c_void_p            # any handle or buffer
PP = POINTER(c_void_p)  # handle out-parameter
FN = c_void_p           # function pointer: an address, never a ctypes callback
I = c_int
I64 = c_int64

# name: (restype, [argtypes]) — in header order.
PROTOTYPES = {
    # version, errors
    "weft_version": (c_uint, []),
    "weft_version_string": (c_char_p, []),
    "weft_strerror": (c_char_p, [I]),
    "weft_err_name": (c_char_p, [I]),
    # runtime
    "weft_config_init": (None, [POINTER(weft_config)]),
    "weft_init": (I, [POINTER(weft_config)]),
    "weft_shutdown": (I, []),
    "weft_now_ns": (I64, []),
    # tasks
    "weft_task_opts_init": (None, [POINTER(weft_task_opts)]),
    "weft_go": (I, [FN, P]),
    "weft_go_opts": (I, [FN, P, POINTER(weft_task_opts)]),
    "weft_yield": (I, []),
    "weft_sleep_ns": (I, [I64]),
    "weft_sleep_until": (I, [I64]),
    "weft_in_task": (I, []),
    "weft_task_id": (c_uint64, []),
    # introspection
    "weft_stats_get": (I, [POINTER(weft_stats)]),
    "weft_dump_tasks": (I, [I]),
    # channels
    "weft_chan_make": (I, [c_size_t, c_size_t, PP]),
    "weft_chan_make_opts": (I, [c_size_t, c_size_t, POINTER(weft_chan_opts), PP]),
    "weft_chan_retain": (P, [P]),
    "weft_chan_release": (I, [P]),
    "weft_chan_send": (I, [P, P]),
    "weft_chan_try_send": (I, [P, P]),
    "weft_chan_send_until": (I, [P, P, I64]),
    "weft_chan_send_ctx": (I, [P, P, P]),
    "weft_chan_recv": (I, [P, P]),
    "weft_chan_try_recv": (I, [P, P]),
    "weft_chan_recv_until": (I, [P, P, I64]),
    "weft_chan_recv_ctx": (I, [P, P, P]),
    "weft_chan_close": (I, [P]),
    "weft_chan_closed": (I, [P]),
    "weft_chan_len": (I64, [P]),
    "weft_chan_cap": (I64, [P]),
    "weft_chan_elem_size": (c_size_t, [P]),
    "weft_chan_elem_size_get": (I, [P, POINTER(c_size_t)]),
    # select
    "weft_select": (I, [POINTER(weft_case), c_size_t, I, I64]),
    "weft_select_ctx": (I, [POINTER(weft_case), c_size_t, I, P]),
    # timers
    "weft_after": (I, [I64, PP]),
    "weft_ticker_make": (I, [I64, PP]),
    "weft_timer_stop": (I, [P]),
    # WaitGroup
    "weft_wg_make": (I, [PP]),
    "weft_wg_retain": (P, [P]),
    "weft_wg_release": (I, [P]),
    "weft_wg_add": (I, [P, I64]),
    "weft_wg_done": (I, [P]),
    "weft_wg_wait": (I, [P]),
    "weft_wg_wait_until": (I, [P, I64]),
    "weft_wg_wait_ctx": (I, [P, P]),
    "weft_wg_go": (I, [P, FN, P]),
    # Mutex
    "weft_mutex_make": (I, [PP]),
    "weft_mutex_retain": (P, [P]),
    "weft_mutex_release": (I, [P]),
    "weft_mutex_lock": (I, [P]),
    "weft_mutex_try_lock": (I, [P]),
    "weft_mutex_lock_until": (I, [P, I64]),
    "weft_mutex_lock_ctx": (I, [P, P]),
    "weft_mutex_unlock": (I, [P]),
    # RWMutex
    "weft_rwmutex_make": (I, [PP]),
    "weft_rwmutex_retain": (P, [P]),
    "weft_rwmutex_release": (I, [P]),
    "weft_rwmutex_rlock": (I, [P]),
    "weft_rwmutex_try_rlock": (I, [P]),
    "weft_rwmutex_rlock_until": (I, [P, I64]),
    "weft_rwmutex_rlock_ctx": (I, [P, P]),
    "weft_rwmutex_runlock": (I, [P]),
    "weft_rwmutex_lock": (I, [P]),
    "weft_rwmutex_try_lock": (I, [P]),
    "weft_rwmutex_lock_until": (I, [P, I64]),
    "weft_rwmutex_lock_ctx": (I, [P, P]),
    "weft_rwmutex_unlock": (I, [P]),
    # Once
    "weft_once_make": (I, [PP]),
    "weft_once_retain": (P, [P]),
    "weft_once_release": (I, [P]),
    "weft_once_do": (I, [P, FN, P]),
    "weft_once_do_until": (I, [P, FN, P, I64]),
    "weft_once_do_ctx": (I, [P, FN, P, P]),
    # Cond
    "weft_cond_make": (I, [P, PP]),
    "weft_cond_retain": (P, [P]),
    "weft_cond_release": (I, [P]),
    "weft_cond_wait": (I, [P]),
    "weft_cond_wait_until": (I, [P, I64]),
    "weft_cond_wait_ctx": (I, [P, P]),
    "weft_cond_signal": (I, [P]),
    "weft_cond_broadcast": (I, [P]),
    # Semaphore
    "weft_sem_make": (I, [I64, PP]),
    "weft_sem_retain": (P, [P]),
    "weft_sem_release": (I, [P]),
    "weft_sem_acquire": (I, [P, I64]),
    "weft_sem_try_acquire": (I, [P, I64]),
    "weft_sem_acquire_until": (I, [P, I64, I64]),
    "weft_sem_acquire_ctx": (I, [P, I64, P]),
    "weft_sem_put": (I, [P, I64]),
    # contexts
    "weft_ctx_background": (P, []),
    "weft_ctx_with_cancel": (I, [P, PP]),
    "weft_ctx_with_timeout": (I, [P, I64, PP]),
    "weft_ctx_with_deadline": (I, [P, I64, PP]),
    "weft_ctx_with_value": (I, [P, P, P, FN, PP]),
    "weft_ctx_without_cancel": (I, [P, PP]),
    "weft_ctx_with_signals": (I, [P, PP]),
    "weft_ctx_retain": (P, [P]),
    "weft_ctx_release": (I, [P]),
    "weft_ctx_cancel": (I, [P]),
    "weft_ctx_cancel_cause": (I, [P, I]),
    "weft_ctx_err": (I, [P]),
    "weft_ctx_cause": (I, [P]),
    "weft_ctx_deadline": (I, [P, POINTER(c_int64)]),
    "weft_ctx_value": (P, [P, P]),
    "weft_ctx_done": (P, [P]),
    "weft_ctx_wait": (I, [P]),
    "weft_ctx_after_func": (I, [P, FN, P, PP]),
    "weft_after_func_stop": (I, [P]),
    "weft_after_func_release": (I, [P]),
    # errgroup
    "weft_group_make": (I, [P, PP, PP]),
    "weft_group_retain": (P, [P]),
    "weft_group_release": (I, [P]),
    "weft_group_set_limit": (I, [P, I64]),
    "weft_group_go": (I, [P, FN, P]),
    "weft_group_try_go": (I, [P, FN, P]),
    "weft_group_wait": (I, [P]),
    "weft_group_wait_result": (I, [P, POINTER(I)]),
    "weft_group_wait_result_until": (I, [P, I64, POINTER(I)]),
    "weft_group_wait_result_ctx": (I, [P, P, POINTER(I)]),
    # futures
    "weft_future_spawn": (I, [P, c_size_t, FN, P, PP]),
    "weft_future_retain": (P, [P]),
    "weft_future_release": (I, [P]),
    "weft_future_await": (I, [P, P, P]),
    "weft_future_await_result": (I, [P, P, POINTER(I)]),
    "weft_future_await_result_until": (I, [P, I64, P, POINTER(I)]),
    "weft_future_await_result_ctx": (I, [P, P, P, POINTER(I)]),
    "weft_future_ready": (I, [P]),
    "weft_collect": (I64, [P, POINTER(weft_job), c_size_t, c_size_t, P, POINTER(c_int), I64]),
    # async completions
    "weft_chan_recv_async": (I, [P, P, P, P, c_uint64]),
    "weft_chan_send_async": (I, [P, P, P, P, c_uint64]),
    "weft_select_async": (I, [POINTER(weft_case), c_size_t, P, P, c_uint64]),
    "weft_wg_wait_async": (I, [P, P, P, c_uint64]),
    "weft_mutex_lock_async": (I, [P, P, P, c_uint64]),
    "weft_sem_acquire_async": (I, [P, I64, P, P, c_uint64]),
    "weft_ctx_wait_async": (I, [P, P, c_uint64]),
    "weft_async_cancel": (I, [P, c_uint64]),
    "weft_async_fd": (I, [P]),
    "weft_async_poll": (I, [P, P, c_size_t]),
    "weft_async_overflows": (I64, [P]),
    # fd readiness, blocking offload, sockets (Python keeps its own sockets:
    # declared so the header and the binding stay one list)
    "weft_fd_wait": (I, [I, I]),
    "weft_fd_wait_until": (I, [I, I, I64]),
    "weft_fd_wait_ctx": (I, [I, I, P]),
    "weft_fd_close": (I, [I]),
    "weft_fd_forget": (I, [I]),
    "weft_offload": (I, [FN, P]),
    "weft_offload_until": (I, [FN, P, I64]),
    "weft_offload_ctx": (I, [FN, P, P]),
    "weft_tcp_listen": (I, [c_char_p, I, I, PP]),
    "weft_unix_listen": (I, [c_char_p, I, PP]),
    "weft_sock_accept": (I, [P, PP]),
    "weft_sock_accept_until": (I, [P, I64, PP]),
    "weft_sock_accept_ctx": (I, [P, P, PP]),
    "weft_tcp_connect": (I, [c_char_p, I, PP]),
    "weft_tcp_connect_until": (I, [c_char_p, I, I64, PP]),
    "weft_tcp_connect_ctx": (I, [c_char_p, I, P, PP]),
    "weft_unix_connect": (I, [c_char_p, PP]),
    "weft_unix_connect_until": (I, [c_char_p, I64, PP]),
    "weft_unix_connect_ctx": (I, [c_char_p, P, PP]),
    "weft_sock_read": (I64, [P, P, c_size_t]),
    "weft_sock_read_until": (I64, [P, P, c_size_t, I64]),
    "weft_sock_read_ctx": (I64, [P, P, c_size_t, P]),
    "weft_sock_read_full": (I64, [P, P, c_size_t]),
    "weft_sock_read_full_until": (I64, [P, P, c_size_t, I64]),
    "weft_sock_read_full_ctx": (I64, [P, P, c_size_t, P]),
    "weft_sock_write": (I64, [P, P, c_size_t]),
    "weft_sock_write_until": (I64, [P, P, c_size_t, I64]),
    "weft_sock_write_ctx": (I64, [P, P, c_size_t, P]),
    "weft_sock_shutdown": (I, [P]),
    "weft_sock_close": (I, [P]),
    "weft_sock_retain": (P, [P]),
    "weft_sock_release": (I, [P]),
    "weft_sock_fd": (I, [P]),
    "weft_sock_local_addr": (I, [P, c_char_p, c_size_t]),
    "weft_sock_peer_addr": (I, [P, c_char_p, c_size_t]),
    "weft_sock_local_port": (I, [P]),
}


def _find_library():
    """The library to load, first found: the one inside this package (a wheel),
    $WEFT_LIB, the built checkout this file sits in (bindings/python/src/weft ->
    .build/release), the system's (ldconfig's cache, find_library)."""
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = os.path.join(here, "libweft.so")
    if os.path.exists(bundled):
        return bundled
    env = os.environ.get("WEFT_LIB")
    if env:
        return env
    checkout = os.path.normpath(os.path.join(here, "..", "..", "..", "..", ".build", "release", "libweft.so"))
    if os.path.exists(checkout):
        return checkout
    found = ctypes.util.find_library("weft")
    if found:
        return found
    raise ImportError("weft: libweft.so not found: not in the package (%s), $WEFT_LIB unset, no built "
                      "checkout (%s), none installed (make install; ldconfig). Build it with "
                      "`make lib` or install the wheel (`make wheel`)" % (here, checkout))


def _load():
    path = _find_library()
    lib = ctypes.CDLL(path)
    missing = []
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise ImportError("weft: %s lacks %s (older library?)" % (path, ", ".join(missing)))
    version = lib.weft_version()
    major, minor = version >> 16, (version >> 8) & 0xFF
    if major != HEADER_VERSION[0] or minor < HEADER_VERSION[1]:
        raise ImportError("weft: library %s is version %d.%d, the binding needs %d.%d.x (>= minor)"
                          % (path, major, minor, HEADER_VERSION[0], HEADER_VERSION[1]))
    return lib, path


lib, LIB_PATH = _load()

# The calls that never block, also bound through PyDLL: they keep the GIL,
# which costs less than CDLL's release and re-acquire around a short call.
# The binding uses `plib` for exactly these (and `lib` for everything else).
NEVER_BLOCK = frozenset(name for name in PROTOTYPES if not name.startswith((
    "weft_fd_", "weft_sock_", "weft_tcp_", "weft_unix_", "weft_offload")) and (name.startswith((
    "weft_chan_try_", "weft_mutex_try_", "weft_rwmutex_try_", "weft_sem_try_", "weft_async_"))
    or name.endswith(("_async", "_retain", "_len", "_cap", "_unlock", "_runlock", "_put", "_add",
                      "_done", "_err", "_cause", "_cancel", "_cancel_cause", "_now_ns", "_close",
                      "_signal", "_broadcast", "_ready", "_closed"))
    or name in ("weft_ctx_with_cancel", "weft_ctx_with_deadline", "weft_ctx_with_timeout",
                "weft_version", "weft_strerror", "weft_err_name")))


def _load_gil_keeping(path):
    keeping = ctypes.PyDLL(path)
    for name in NEVER_BLOCK:
        restype, argtypes = PROTOTYPES[name]
        fn = getattr(keeping, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return keeping


plib = _load_gil_keeping(LIB_PATH)
