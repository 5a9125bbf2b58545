/*
 * weft.h — the one public header of Weft, a Go-style concurrency runtime.
 *
 * Conventions (libuv's):
 *  - every function is prefixed weft_; handles are opaque and reference counted
 *    (weft_<type>_retain / weft_<type>_release). A handle a function hands out
 *    through an out-parameter (weft_chan_make(..., &ch)) is the caller's: it
 *    owns one reference and releases it. Borrowed handles are the exception,
 *    marked WEFT_BORROWED on the declaration (a return value or an
 *    out-parameter) and explained in a "Borrowed:" note saying who owns them:
 *    weft_ctx_background, weft_ctx_done, the ctx_out of weft_group_make (and
 *    the fds of weft_async_fd and weft_sock_fd, which the runtime closes);
 *  - int returns: 0 (or a non-negative result) on success, a negative WEFT_E*
 *    code on failure; weft_strerror() turns a code into text. A code a user's
 *    function returned (a future's, a group task's) never shares the return
 *    value with the runtime's codes: it comes back through an out-parameter
 *    (weft_future_await_result*, weft_group_wait_result*). weft_future_await and
 *    weft_group_wait, kept from 0.1, still mix the two (a user's -110 reads as
 *    WEFT_ETIMEDOUT);
 *  - WEFT_NODISCARD (warn_unused_result where the compiler has it) marks every
 *    function whose result must be looked at. Unmarked are the ones called for
 *    their effect, whose failures are misuse of a handle or for information:
 *    _retain, _release, _close, _unlock, weft_ctx_cancel*, weft_wg_done,
 *    weft_cond_signal/broadcast, weft_sem_put, weft_timer_stop,
 *    weft_after_func_stop, weft_async_cancel, weft_shutdown, weft_yield,
 *    weft_sleep_ns/until, weft_fd_forget, weft_sock_shutdown, weft_dump_tasks.
 *    Define WEFT_NODISCARD empty before including this header to turn it off;
 *  - durations are int64_t nanoseconds (..._ns), deadlines are absolute on the
 *    monotonic clock of weft_now_ns(); WEFT_NO_DEADLINE waits forever;
 *  - structs that may grow carry their size as the first field: set it to
 *    sizeof(the struct) (the *_init helpers do);
 *  - a function whose comment says "Blocks: yes" (or "briefly", ...) may wait;
 *    one without a "Blocks:" note never does. Waiting parks the calling task
 *    when called inside a task and blocks the OS thread when called from a
 *    plain thread. Each blocking weft_X has a weft_X_until (absolute deadline,
 *    WEFT_ETIMEDOUT) and a weft_X_ctx (context: WEFT_ECANCELED or
 *    WEFT_ETIMEDOUT; NULL: none) form (weft_X_ns: weft_X_until and weft_X_ctx),
 *    except these, which take their bound differently or wait only briefly
 *    (Tests/abi/check_conventions.py holds the header to this list):
 *      weft_shutdown: bounded by weft_config.shutdown_grace_ns; thread only.
 *      weft_sleep_ns: a sleep is its own deadline (weft_sleep_until); to sleep
 *        until a context ends, weft_ctx_wait on weft_ctx_with_timeout(ctx).
 *      weft_select: takes the deadline as a parameter; weft_select_ctx.
 *      weft_ctx_wait: waits for a context; to bound it, wait on a child
 *        (weft_ctx_with_deadline / weft_ctx_with_cancel), or weft_select over
 *        several weft_ctx_done channels.
 *      weft_group_go: waits only for a slot under weft_group_set_limit;
 *        weft_group_try_go does not wait.
 *      weft_group_wait: kept from 0.1; its forms are weft_group_wait_result
 *        and weft_group_wait_result_until / _ctx.
 *      weft_future_await: takes a context (NULL: none); weft_future_await_result
 *        and its _until / _ctx forms keep fn's code apart from the wait's.
 *      weft_collect: takes a context (NULL: none), which its jobs see as well:
 *        for a deadline pass weft_ctx_with_deadline's child.
 *      weft_tcp_listen: waits only to resolve a host name (on the offload
 *        pool); a numeric address never waits.
 *      weft_fd_close, weft_fd_forget, weft_sock_close, weft_sock_release:
 *        wait briefly, until each loop has dropped the fd.
 *      weft_dump_tasks: write(2)s to the caller's fd.
 */
#ifndef WEFT_H
#define WEFT_H

#include <stddef.h>
#include <stdint.h>

/* WEFT_NODISCARD: the result must be looked at (see the conventions). */
#ifndef WEFT_NODISCARD
#if defined(__has_attribute)
#if __has_attribute(warn_unused_result)
#define WEFT_NODISCARD __attribute__((warn_unused_result))
#endif
#elif defined(__GNUC__) && (__GNUC__ > 3 || (__GNUC__ == 3 && __GNUC_MINOR__ >= 4))
#define WEFT_NODISCARD __attribute__((warn_unused_result))
#endif
#ifndef WEFT_NODISCARD
#define WEFT_NODISCARD
#endif
#endif

/* WEFT_BORROWED: the returned handle (or the handle stored through the marked
 * out-parameter) holds no reference of the caller's: do not release it. Its
 * "Borrowed:" note says who owns it and how long it stays valid. Expands to
 * nothing. */
#define WEFT_BORROWED

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- version */

#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 2
#define WEFT_VERSION_PATCH 0
#define WEFT_VERSION_HEX \
  ((WEFT_VERSION_MAJOR << 16) | (WEFT_VERSION_MINOR << 8) | WEFT_VERSION_PATCH)

/* The library's version as WEFT_VERSION_HEX; compare with the macros to catch a
 * header/library mismatch. Blocks: no. */
WEFT_NODISCARD unsigned int weft_version(void);
/* "MAJOR.MINOR.PATCH". Blocks: no. */
WEFT_NODISCARD const char *weft_version_string(void);

/* ----------------------------------------------------------------- errors */

#define WEFT_OK 0
#define WEFT_EPERM (-1)       /* not the owner: unlock of an unlocked mutex */
#define WEFT_EAGAIN (-11)     /* would block (_try_ forms, select default) */
#define WEFT_ENOMEM (-12)     /* out of memory or address space */
#define WEFT_EBUSY (-16)      /* resource busy (init after start, ...) */
#define WEFT_EINVAL (-22)     /* bad argument: NULL, released handle, size */
#define WEFT_ECLOSED (-32)    /* channel closed (and drained, for receive) */
#define WEFT_ERANGE (-34)     /* counter out of range (negative WaitGroup, over-release) */
#define WEFT_EDEADLK (-35)    /* the call would wait forever on itself */
#define WEFT_ESHUTDOWN (-108) /* the runtime is shut down or shutting down */
#define WEFT_ETIMEDOUT (-110) /* deadline passed / context deadline exceeded */
#define WEFT_ECANCELED (-125) /* context canceled */
/* I/O (fd readiness, sockets, offload): errno's numbers negated, except
 * WEFT_EPIPE (errno's 32 is WEFT_ECLOSED) and the two that are not errnos. An
 * errno without a code of its own becomes WEFT_EIO. */
#define WEFT_ENOENT (-2)          /* no such file (Unix socket path) */
#define WEFT_EIO (-5)             /* any other I/O error */
#define WEFT_EBADF (-9)           /* negative or closed fd */
#define WEFT_EACCES (-13)         /* permission denied */
#define WEFT_EMFILE (-24)         /* too many open files */
#define WEFT_ENOTSOCK (-88)       /* the fd is not a socket */
#define WEFT_EADDRINUSE (-98)     /* address already in use */
#define WEFT_EADDRNOTAVAIL (-99)  /* address not available */
#define WEFT_ENETUNREACH (-101)   /* network unreachable */
#define WEFT_ECONNABORTED (-103)  /* connection aborted */
#define WEFT_ECONNRESET (-104)    /* connection reset by peer */
#define WEFT_ENOTCONN (-107)      /* not connected */
#define WEFT_ECONNREFUSED (-111)  /* connection refused */
#define WEFT_EHOSTUNREACH (-113)  /* host unreachable */
#define WEFT_ENAMENOTFOUND (-3008) /* host name resolution failed */
#define WEFT_EPIPE (-4094)        /* broken pipe: write after the peer closed */
#define WEFT_EOF (-4095)          /* end of stream (weft_sock_read_full) */

/* A static string describing err; "unknown error" for unknown codes. */
WEFT_NODISCARD const char *weft_strerror(int err);
/* The code's name, "WEFT_EINVAL" and so on. */
WEFT_NODISCARD const char *weft_err_name(int err);

/* --------------------------------------------------------------- handles */

/* A handle is an opaque value, not an address: never dereference it. Passing
 * NULL, a released handle, a handle of another type or any other pointer
 * returns WEFT_EINVAL (retain: NULL), every time. Like a file descriptor, a
 * handle must not be released while another thread is still calling with it.
 * Borrowed handles (weft_ctx_done, the ctx_out of weft_group_make) hold no
 * reference of yours: retain one to keep it longer; releasing it without a
 * retain returns WEFT_EINVAL. */

#ifdef __swift__
/* For Swift's @c layer only (clang defines __swift__ when Swift imports this
 * header): complete, never instantiated definitions of the opaque handles, so
 * the prototypes the compiler emits keep their types (weft_chan_t *, not void *)
 * and Tests/abi/check_abi.py can hold them against this header. C and C++ see
 * opaque handles. */
struct weft_ctx { char weft_private_; };
struct weft_chan { char weft_private_; };
struct weft_wg { char weft_private_; };
struct weft_mutex { char weft_private_; };
struct weft_rwmutex { char weft_private_; };
struct weft_once { char weft_private_; };
struct weft_cond { char weft_private_; };
struct weft_sem { char weft_private_; };
struct weft_after_func { char weft_private_; };
struct weft_group { char weft_private_; };
struct weft_future { char weft_private_; };
struct weft_sock { char weft_private_; };
#endif

/* ---------------------------------------------------------------- runtime */

#define WEFT_NO_DEADLINE INT64_MAX

typedef struct weft_config {
  size_t size;            /* sizeof(weft_config); smaller: WEFT_EINVAL */
  unsigned int workers;   /* worker threads; 0: $WEFT_WORKERS, else one per core */
  size_t stack_size;      /* default task stack in bytes; 0: 64 KiB */
  int64_t shutdown_grace_ns; /* how long weft_shutdown waits for tasks; 0: 5 s,
                                INT64_MAX: until every task finished */
  unsigned int offload_threads; /* weft_offload pool threads; 0: 16 (since 0.1: a
                                 * smaller size leaves it at the default) */
} weft_config;

/* Fills cfg with the defaults. */
void weft_config_init(weft_config *cfg);
/* Starts the runtime with cfg (NULL: defaults). Optional: the first call that needs
 * the runtime starts it with the defaults. WEFT_EBUSY once started,
 * WEFT_ESHUTDOWN after weft_shutdown, WEFT_ENOMEM when not one worker thread
 * could be created. When only some could (pthread_create failed), the runtime
 * runs with those: it says so on stderr, and weft_stats_get's workers counts
 * the threads that exist. Blocks: no.
 * Side effects, process-wide (the implicit start on first use does the same):
 *  - installs SIGSEGV and SIGBUS handlers (SA_SIGINFO | SA_ONSTACK) that turn a
 *    fault in a task's guard region into "weft: stack overflow in task ..."
 *    and an abort; any other fault is passed on to the handler installed
 *    before (or the default action). weft_shutdown puts the previous handlers
 *    back if they are still weft's;
 *  - gives each worker thread its own 64 KiB sigaltstack (mmap'd, unmapped
 *    when the worker exits); threads of the caller's are not touched;
 *  - starts the worker threads (weft_config.workers; $WEFT_WORKERS; else one
 *    per core) and one monitor thread (wakes every 2 ms while tasks run, to
 *    hand the queue of a worker stuck in one task to a spare thread, which it
 *    starts then); later, on demand: up to offload_threads blocking-offload
 *    threads (weft_offload, host name lookups), one signal thread per
 *    weft_ctx_with_signals, and with WEFT_DEADLOCK set a deadlock watcher;
 *  - registers a pthread_atfork child handler (once per process), so that a
 *    forked child sees the runtime as shut down (see weft_shutdown);
 *  - reads the environment: WEFT_WORKERS (worker count when cfg->workers is
 *    0), WEFT_DEADLOCK ("report" or "1": report a deadlock to stderr once;
 *    "abort": report, then abort) and WEFT_DEADLOCK_MS (how long every task
 *    must stay asleep before it counts, in ms);
 *  - SIGPIPE is left alone: socket writes use MSG_NOSIGNAL. */
WEFT_NODISCARD int weft_init(const weft_config *cfg);
/* Stops the runtime: new tasks are refused, blocking calls made from now on return
 * WEFT_ESHUTDOWN, then it waits up to shutdown_grace_ns for the live tasks to
 * finish (calls already blocked keep waiting meanwhile, and complete normally
 * if their peer comes). At the end of the grace period every waiter still
 * blocked — task or plain thread, in any blocking call — is resumed with
 * WEFT_ESHUTDOWN, so tasks run their cleanup and finish (they get up to 1 s;
 * they cannot block again); then the workers stop, the task stacks are unmapped
 * and the SIGSEGV/SIGBUS handlers installed by weft_init are restored (a host
 * may dlclose the library afterwards). Returns 0 when every task finished within
 * the grace period, WEFT_ETIMEDOUT when some had not. A task that still runs
 * after that (a blocking system call, a loop that never calls into the
 * runtime) keeps its stack and its worker thread is abandoned, not joined:
 * weft_shutdown returns about 50 ms after the grace period (the drain ends
 * early when only such tasks are left); the thread leaves when its task next
 * switches away. Task records (112 bytes each, the high-water mark of
 * live tasks) are kept so late weft_dump_tasks calls stay valid. Idempotent:
 * later calls return 0. Must not be called from a task (WEFT_EDEADLK).
 * Blocks: yes (thread only).
 * fork: in a child forked after the runtime started, the runtime counts as
 * shut down (its worker threads do not exist there): weft_go, weft_init and
 * every call that would block return WEFT_ESHUTDOWN, weft_stats_get reports no
 * workers and no tasks, weft_shutdown returns 0. Non-blocking calls on existing
 * handles still work. A child forked before the runtime started uses it
 * normally. */
int weft_shutdown(void);
/* Monotonic clock in nanoseconds; the clock of every deadline. Blocks: no. */
WEFT_NODISCARD int64_t weft_now_ns(void);

/* ------------------------------------------------------------------ tasks */
/* Tasks are not preempted. A task that keeps its worker thread for more than
 * about 10 ms (a blocking system call, a long loop) does not stall the others:
 * that worker's queued tasks and timers move on and a spare thread takes its
 * place until the task parks, yields or returns. */

typedef void (*weft_fn)(void *arg);

typedef struct weft_task_opts {
  size_t size;         /* sizeof(weft_task_opts) */
  size_t stack_size;   /* 0: the configured default; 16 KiB .. 64 MiB. A task
                        * gets at least this many usable bytes (64 KiB exactly
                        * for the default) above a 64 KiB guard region; an
                        * overflow into it aborts with "weft: stack overflow in
                        * task ID 'NAME'". Compile task code with
                        * -fstack-clash-protection so that frames over 64 KiB
                        * are caught too, instead of jumping the guard. */
  const char *name;    /* copied (up to 31 bytes); shown by weft_dump_tasks */
} weft_task_opts;

void weft_task_opts_init(weft_task_opts *opts);
/* Spawns a task running fn(arg). WEFT_EINVAL for a NULL fn; WEFT_ENOMEM when
 * no task record can be allocated, or while accepted tasks are waiting for a
 * stack (address space exhausted). A task accepted with 0 always runs: if no
 * stack can be mapped for its first run, it waits until a finishing task frees
 * one (or a retry, every millisecond, maps one). Blocks: no. */
WEFT_NODISCARD int weft_go(weft_fn fn, void *arg);
WEFT_NODISCARD int weft_go_opts(weft_fn fn, void *arg, const weft_task_opts *opts);
/* Lets other runnable tasks run; from a plain thread: sched_yield. */
int weft_yield(void);
/* Sleeps ns nanoseconds (<= 0: returns at once). Blocks: yes. */
int weft_sleep_ns(int64_t ns);
int weft_sleep_until(int64_t deadline_ns);
/* 1 inside a task, 0 on a plain thread. */
WEFT_NODISCARD int weft_in_task(void);
/* The running task's id (> 0), 0 on a plain thread. */
WEFT_NODISCARD uint64_t weft_task_id(void);

/* ---------------------------------------------------------- introspection */

#define WEFT_STATS_MAX_WORKERS 64

typedef struct weft_stats {
  size_t size;              /* sizeof(weft_stats) */
  uint32_t workers;
  uint64_t tasks_live;      /* spawned and not finished */
  uint64_t tasks_parked;    /* of those, parked on a primitive or a timer */
  uint64_t tasks_spawned;   /* total since start */
  uint64_t tasks_finished;  /* total since start */
  uint64_t switches;        /* context switches into tasks */
  uint64_t steals;          /* tasks taken from another worker's queue */
  uint64_t timers_pending;
  uint32_t runq_len[WEFT_STATS_MAX_WORKERS]; /* per worker */
  /* 1 when tasks are alive, every one is parked, no timer is pending and nothing
   * is queued: nothing inside the runtime can wake them any more (a plain thread
   * or a signal still can). Go's "all goroutines are asleep - deadlock!". */
  uint32_t deadlocked;
  /* fd registrations (uv_poll handles) watching an event, over all loops: 0
   * once no task waits on an fd (and every fd waited on was read to EAGAIN or
   * closed with weft_fd_close). */
  uint64_t io_polls_active;
} weft_stats;

/* Fills *out (out->size must be set). Blocks: no. */
WEFT_NODISCARD int weft_stats_get(weft_stats *out);
/* Writes one line per live task (id, name, state, what it waits on) to fd.
 * Blocks: only in write(2) on fd. */
int weft_dump_tasks(int fd);

/* ---------------------------------------------------------------- contexts */

typedef struct weft_ctx weft_ctx_t;

/* ---------------------------------------------------------------- channels */

typedef struct weft_chan weft_chan_t;

typedef struct weft_chan_opts {
  size_t size;                         /* sizeof(weft_chan_opts) */
  void (*elem_dtor)(void *elem);       /* runs on values still buffered when freed */
} weft_chan_opts;

/* A channel of elem_size-byte values (0 allowed: signal channels) with room for
 * capacity values; capacity 0 is an unbuffered rendezvous. WEFT_EINVAL for a NULL
 * out, WEFT_ENOMEM for an absurd elem_size * capacity (over 1 GiB). */
WEFT_NODISCARD int weft_chan_make(size_t elem_size, size_t capacity, weft_chan_t **out);
WEFT_NODISCARD int weft_chan_make_opts(size_t elem_size, size_t capacity,
                        const weft_chan_opts *opts, weft_chan_t **out);
weft_chan_t *weft_chan_retain(weft_chan_t *ch);
int weft_chan_release(weft_chan_t *ch);
/* Sends the elem_size bytes at elem. WEFT_ECLOSED on a closed channel.
 * Blocks: yes. */
WEFT_NODISCARD int weft_chan_send(weft_chan_t *ch, const void *elem);
WEFT_NODISCARD int weft_chan_try_send(weft_chan_t *ch, const void *elem);   /* WEFT_EAGAIN */
WEFT_NODISCARD int weft_chan_send_until(weft_chan_t *ch, const void *elem, int64_t deadline_ns);
WEFT_NODISCARD int weft_chan_send_ctx(weft_chan_t *ch, const void *elem, weft_ctx_t *ctx);
/* Receives into out (NULL discards). WEFT_ECLOSED once closed and drained.
 * Blocks: yes. */
WEFT_NODISCARD int weft_chan_recv(weft_chan_t *ch, void *out);
WEFT_NODISCARD int weft_chan_try_recv(weft_chan_t *ch, void *out);          /* WEFT_EAGAIN */
WEFT_NODISCARD int weft_chan_recv_until(weft_chan_t *ch, void *out, int64_t deadline_ns);
WEFT_NODISCARD int weft_chan_recv_ctx(weft_chan_t *ch, void *out, weft_ctx_t *ctx);
/* Closes: buffered values stay receivable; every blocked sender gets
 * WEFT_ECLOSED, every blocked receiver WEFT_ECLOSED. A second close:
 * WEFT_ECLOSED. */
int weft_chan_close(weft_chan_t *ch);
/* 1 once closed (values may still be buffered), 0 while open; WEFT_EINVAL
 * for a bad handle. Blocks: no. */
WEFT_NODISCARD int weft_chan_closed(weft_chan_t *ch);
/* Buffered values / capacity; negative WEFT_E* for a bad handle. */
WEFT_NODISCARD int64_t weft_chan_len(weft_chan_t *ch);
WEFT_NODISCARD int64_t weft_chan_cap(weft_chan_t *ch);
/* The element size; 0 for a bad handle as for a signal channel (tell them
 * apart with weft_chan_cap, negative for a bad handle; or use
 * weft_chan_elem_size_get). */
WEFT_NODISCARD size_t weft_chan_elem_size(weft_chan_t *ch);
/* Stores the element size in *out: 0, or WEFT_EINVAL (and *out untouched) for
 * a bad handle or a NULL out. Blocks: no. Since 0.2. */
WEFT_NODISCARD int weft_chan_elem_size_get(weft_chan_t *ch, size_t *out);

/* ------------------------------------------------------------------ select */

#define WEFT_CASE_RECV 1
#define WEFT_CASE_SEND 2

typedef struct weft_case {
  weft_chan_t *chan;  /* NULL: never ready (disables the case) */
  int op;             /* WEFT_CASE_RECV or WEFT_CASE_SEND */
  void *elem;         /* send: the value; recv: where to store it (NULL discards) */
  int result;         /* out, for the case that fired: 0 or WEFT_ECLOSED */
} weft_case;

#define WEFT_SELECT_DEFAULT 1 /* flags: return WEFT_EAGAIN if no case is ready */

/* Waits until one case can proceed, performs exactly that one and returns its
 * index. Several ready cases are chosen uniformly at random. WEFT_EAGAIN with
 * WEFT_SELECT_DEFAULT and nothing ready, WEFT_ETIMEDOUT at the deadline,
 * WEFT_ECANCELED/WEFT_ETIMEDOUT when ctx ends. n = 0 without a default and
 * without a deadline or context would wait forever: WEFT_EDEADLK.
 * Blocks: yes. */
WEFT_NODISCARD int weft_select(weft_case *cases, size_t n, int flags, int64_t deadline_ns);
WEFT_NODISCARD int weft_select_ctx(weft_case *cases, size_t n, int flags, weft_ctx_t *ctx);

/* ------------------------------------------------------------------ timers */

/* A channel of int64_t that receives weft_now_ns() once, ns from now (Go's
 * time.After). The caller owns the returned reference. */
WEFT_NODISCARD int weft_after(int64_t ns, weft_chan_t **out);
/* A channel (capacity 1) receiving weft_now_ns() every period_ns; ticks are
 * dropped while the channel is full. Stop it with weft_timer_stop. */
WEFT_NODISCARD int weft_ticker_make(int64_t period_ns, weft_chan_t **out);
/* Stops the timer or ticker feeding ch: 1 if it was running, 0 if it had fired
 * or was stopped. WEFT_EINVAL if ch is not a timer channel. */
int weft_timer_stop(weft_chan_t *ch);

/* --------------------------------------------------------- sync: WaitGroup */

typedef struct weft_wg weft_wg_t;

WEFT_NODISCARD int weft_wg_make(weft_wg_t **out);
weft_wg_t *weft_wg_retain(weft_wg_t *wg);
int weft_wg_release(weft_wg_t *wg);
/* Adds delta (may be negative). A result below zero returns WEFT_ERANGE and
 * leaves the counter unchanged; reaching zero wakes every waiter. */
WEFT_NODISCARD int weft_wg_add(weft_wg_t *wg, int64_t delta);
int weft_wg_done(weft_wg_t *wg);
/* Waits for the counter to reach zero. Blocks: yes. */
WEFT_NODISCARD int weft_wg_wait(weft_wg_t *wg);
WEFT_NODISCARD int weft_wg_wait_until(weft_wg_t *wg, int64_t deadline_ns);
WEFT_NODISCARD int weft_wg_wait_ctx(weft_wg_t *wg, weft_ctx_t *ctx);
/* add(1), spawn fn(arg), done() when it returns (Go's wg.Go). */
WEFT_NODISCARD int weft_wg_go(weft_wg_t *wg, weft_fn fn, void *arg);

/* ------------------------------------------------------------- sync: Mutex */

typedef struct weft_mutex weft_mutex_t;

WEFT_NODISCARD int weft_mutex_make(weft_mutex_t **out);
weft_mutex_t *weft_mutex_retain(weft_mutex_t *mu);
int weft_mutex_release(weft_mutex_t *mu);
/* Blocks: yes. Fair: a waiter starved for over 1 ms gets the lock handed over. */
WEFT_NODISCARD int weft_mutex_lock(weft_mutex_t *mu);
WEFT_NODISCARD int weft_mutex_try_lock(weft_mutex_t *mu);                   /* WEFT_EAGAIN */
WEFT_NODISCARD int weft_mutex_lock_until(weft_mutex_t *mu, int64_t deadline_ns);
WEFT_NODISCARD int weft_mutex_lock_ctx(weft_mutex_t *mu, weft_ctx_t *ctx);
/* WEFT_EPERM when not locked. */
int weft_mutex_unlock(weft_mutex_t *mu);

/* ----------------------------------------------------------- sync: RWMutex */

typedef struct weft_rwmutex weft_rwmutex_t;

WEFT_NODISCARD int weft_rwmutex_make(weft_rwmutex_t **out);
weft_rwmutex_t *weft_rwmutex_retain(weft_rwmutex_t *rw);
int weft_rwmutex_release(weft_rwmutex_t *rw);
/* Readers share; a waiting writer holds back new readers. Blocks: yes. */
WEFT_NODISCARD int weft_rwmutex_rlock(weft_rwmutex_t *rw);
WEFT_NODISCARD int weft_rwmutex_try_rlock(weft_rwmutex_t *rw);
WEFT_NODISCARD int weft_rwmutex_rlock_until(weft_rwmutex_t *rw, int64_t deadline_ns);
WEFT_NODISCARD int weft_rwmutex_rlock_ctx(weft_rwmutex_t *rw, weft_ctx_t *ctx);
/* The write lock: exclusive. Blocks: yes. */
WEFT_NODISCARD int weft_rwmutex_lock(weft_rwmutex_t *rw);
WEFT_NODISCARD int weft_rwmutex_try_lock(weft_rwmutex_t *rw);
WEFT_NODISCARD int weft_rwmutex_lock_until(weft_rwmutex_t *rw, int64_t deadline_ns);
WEFT_NODISCARD int weft_rwmutex_lock_ctx(weft_rwmutex_t *rw, weft_ctx_t *ctx);
/* Unlock a read / the write lock: WEFT_EPERM when not held. */
int weft_rwmutex_runlock(weft_rwmutex_t *rw);
int weft_rwmutex_unlock(weft_rwmutex_t *rw);

/* -------------------------------------------------------------- sync: Once */

typedef struct weft_once weft_once_t;

WEFT_NODISCARD int weft_once_make(weft_once_t **out);
weft_once_t *weft_once_retain(weft_once_t *once);
int weft_once_release(weft_once_t *once);
/* Runs fn(arg) exactly once over all calls; concurrent callers wait until it
 * returned. Returns 0 once fn has returned (in this call or another);
 * WEFT_EDEADLK for a call from inside fn; WEFT_ETIMEDOUT / WEFT_ECANCELED /
 * WEFT_ESHUTDOWN when the wait ends first (fn keeps running in its caller, and
 * a later call waits for it again). Blocks: yes. (weft_once_do_until: since
 * 0.2.) */
WEFT_NODISCARD int weft_once_do(weft_once_t *once, weft_fn fn, void *arg);
WEFT_NODISCARD int weft_once_do_until(weft_once_t *once, weft_fn fn, void *arg, int64_t deadline_ns);
WEFT_NODISCARD int weft_once_do_ctx(weft_once_t *once, weft_fn fn, void *arg, weft_ctx_t *ctx);

/* -------------------------------------------------------------- sync: Cond */

typedef struct weft_cond weft_cond_t;

/* A condition variable tied to mu (retained). */
WEFT_NODISCARD int weft_cond_make(weft_mutex_t *mu, weft_cond_t **out);
weft_cond_t *weft_cond_retain(weft_cond_t *cond);
int weft_cond_release(weft_cond_t *cond);
/* Unlocks mu, waits for a signal, locks mu again (also on timeout and cancel).
 * WEFT_EPERM when mu is not locked. Blocks: yes. */
WEFT_NODISCARD int weft_cond_wait(weft_cond_t *cond);
WEFT_NODISCARD int weft_cond_wait_until(weft_cond_t *cond, int64_t deadline_ns);
WEFT_NODISCARD int weft_cond_wait_ctx(weft_cond_t *cond, weft_ctx_t *ctx);
/* Wakes one waiter / every waiter (none waiting: nothing happens). */
int weft_cond_signal(weft_cond_t *cond);
int weft_cond_broadcast(weft_cond_t *cond);

/* --------------------------------------------------------- sync: Semaphore */

typedef struct weft_sem weft_sem_t;

/* A weighted semaphore holding capacity units (> 0). */
WEFT_NODISCARD int weft_sem_make(int64_t capacity, weft_sem_t **out);
weft_sem_t *weft_sem_retain(weft_sem_t *sem);
int weft_sem_release(weft_sem_t *sem);
/* Takes n units, waiting FIFO. n > capacity: WEFT_EINVAL at once. Blocks: yes. */
WEFT_NODISCARD int weft_sem_acquire(weft_sem_t *sem, int64_t n);
WEFT_NODISCARD int weft_sem_try_acquire(weft_sem_t *sem, int64_t n);        /* WEFT_EAGAIN */
WEFT_NODISCARD int weft_sem_acquire_until(weft_sem_t *sem, int64_t n, int64_t deadline_ns);
WEFT_NODISCARD int weft_sem_acquire_ctx(weft_sem_t *sem, int64_t n, weft_ctx_t *ctx);
/* Returns n units; more than are held: WEFT_ERANGE, nothing changes. */
int weft_sem_put(weft_sem_t *sem, int64_t n);

/* ---------------------------------------------------------------- contexts */

/* The root: never canceled, no deadline, no values. Borrowed: owned by the
 * runtime, valid for the life of the process; retain/release are no-ops. */
WEFT_NODISCARD WEFT_BORROWED weft_ctx_t *weft_ctx_background(void);
WEFT_NODISCARD int weft_ctx_with_cancel(weft_ctx_t *parent, weft_ctx_t **out);
WEFT_NODISCARD int weft_ctx_with_timeout(weft_ctx_t *parent, int64_t timeout_ns, weft_ctx_t **out);
/* The child's deadline is the earlier of deadline_ns and the parent's. */
WEFT_NODISCARD int weft_ctx_with_deadline(weft_ctx_t *parent, int64_t deadline_ns, weft_ctx_t **out);
/* value_dtor (may be NULL) runs on value when the context is freed. */
WEFT_NODISCARD int weft_ctx_with_value(weft_ctx_t *parent, const void *key, void *value,
                        weft_fn value_dtor, weft_ctx_t **out);
/* Keeps parent's values, never canceled (Go's WithoutCancel). */
WEFT_NODISCARD int weft_ctx_without_cancel(weft_ctx_t *parent, weft_ctx_t **out);
/* Canceled by SIGINT or SIGTERM (Go's signal.NotifyContext), with the signal
 * number as its cause; cancel or the last release (children hold their parent)
 * stops watching and restores the previous disposition. */
WEFT_NODISCARD int weft_ctx_with_signals(weft_ctx_t *parent, weft_ctx_t **out);
weft_ctx_t *weft_ctx_retain(weft_ctx_t *ctx);
int weft_ctx_release(weft_ctx_t *ctx);
/* Cancels ctx and its subtree (cause WEFT_ECANCELED). WEFT_EINVAL for contexts
 * that cannot be canceled (background, value, without_cancel). Idempotent. */
int weft_ctx_cancel(weft_ctx_t *ctx);
/* Cancels with a cause, reported by weft_ctx_cause (any int; 0 means ECANCELED). */
int weft_ctx_cancel_cause(weft_ctx_t *ctx, int cause);
/* 0 while live, WEFT_ECANCELED or WEFT_ETIMEDOUT once done. */
WEFT_NODISCARD int weft_ctx_err(weft_ctx_t *ctx);
/* The cause given to cancel_cause, else the same as weft_ctx_err. */
WEFT_NODISCARD int weft_ctx_cause(weft_ctx_t *ctx);
/* 1 and *deadline_ns when ctx has a deadline, 0 when none. */
WEFT_NODISCARD int weft_ctx_deadline(weft_ctx_t *ctx, int64_t *deadline_ns);
/* The value for key, looked up towards the root; NULL when absent. */
WEFT_NODISCARD void *weft_ctx_value(weft_ctx_t *ctx, const void *key);
/* A channel (elem_size 0) closed when ctx is done. Usable in weft_select. NULL
 * for background (never done) and for a bad handle. Borrowed: owned by ctx,
 * valid while this ctx handle is; do not release it (weft_chan_retain it to
 * keep it longer, then release that reference). */
WEFT_NODISCARD WEFT_BORROWED weft_chan_t *weft_ctx_done(weft_ctx_t *ctx);
/* Waits until ctx is done; returns weft_ctx_err. WEFT_EDEADLK for a context
 * that can never be done (background, without_cancel). Blocks: yes. */
WEFT_NODISCARD int weft_ctx_wait(weft_ctx_t *ctx);

typedef struct weft_after_func weft_after_func_t;
/* Runs fn(arg) in a new task once ctx is done (at once if it already is). The
 * registration keeps ctx alive until it runs or is stopped. out may be NULL
 * (no handle: it cannot be stopped). */
WEFT_NODISCARD int weft_ctx_after_func(weft_ctx_t *ctx, weft_fn fn, void *arg,
                        weft_after_func_t **out);
/* 1 if this stopped fn from running, 0 if it already started or was stopped.
 * Frees the handle. */
int weft_after_func_stop(weft_after_func_t *af);
/* Frees the handle without stopping fn. */
int weft_after_func_release(weft_after_func_t *af);

/* ---------------------------------------------------------------- errgroup */

typedef struct weft_group weft_group_t;
typedef int (*weft_group_fn)(weft_ctx_t *ctx, void *arg);

/* A group whose context (*ctx_out, a child of parent; ctx_out may be NULL) is
 * canceled by the first task that returns non-zero, or once a wait saw every
 * task finish. The caller owns *out. Borrowed: *ctx_out is owned by the group,
 * valid while the group handle is; do not release it (weft_ctx_retain it to
 * keep it longer). */
WEFT_NODISCARD int weft_group_make(weft_ctx_t *parent, weft_group_t **out,
                    WEFT_BORROWED weft_ctx_t **ctx_out);
weft_group_t *weft_group_retain(weft_group_t *g);
int weft_group_release(weft_group_t *g);
/* At most n tasks at once (n < 0: no limit). WEFT_EBUSY while tasks run. */
WEFT_NODISCARD int weft_group_set_limit(weft_group_t *g, int64_t n);
/* Runs fn(ctx, arg) in a new task; waits for a slot under a limit. Blocks: yes. */
WEFT_NODISCARD int weft_group_go(weft_group_t *g, weft_group_fn fn, void *arg);
WEFT_NODISCARD int weft_group_try_go(weft_group_t *g, weft_group_fn fn, void *arg); /* WEFT_EAGAIN */
/* Waits for every task; returns the first non-zero result (0 if none).
 * WEFT_ESHUTDOWN (and the group's context canceled) when shutdown ends the wait
 * while tasks still run: 0 only once every task finished. The tasks' results
 * and the runtime's codes share the return value (a task's -110 reads as
 * WEFT_ETIMEDOUT): prefer weft_group_wait_result. Blocks: yes. */
WEFT_NODISCARD int weft_group_wait(weft_group_t *g);
/* Waits for every task (since 0.2). Returns 0 once every task finished, with
 * the first non-zero task result (0 if none) in *result (result may be NULL),
 * and cancels the group's context. Otherwise a code of the wait's own, *result
 * untouched: WEFT_EINVAL for a bad handle; WEFT_ETIMEDOUT at deadline_ns,
 * WEFT_ECANCELED / WEFT_ETIMEDOUT when ctx (NULL: none) ends first: the tasks
 * keep running and the group's context is left alone (wait again, or cancel
 * the group's context to stop them); WEFT_ESHUTDOWN when shutdown ends the
 * wait (the group's context canceled). Blocks: yes. */
WEFT_NODISCARD int weft_group_wait_result(weft_group_t *g, int *result);
WEFT_NODISCARD int weft_group_wait_result_until(weft_group_t *g, int64_t deadline_ns, int *result);
WEFT_NODISCARD int weft_group_wait_result_ctx(weft_group_t *g, weft_ctx_t *ctx, int *result);

/* ----------------------------------------------------------------- futures */

typedef struct weft_future weft_future_t;
/* Produces value_size bytes at value_out; returns 0 or an error code. */
typedef int (*weft_future_fn)(weft_ctx_t *ctx, void *arg, void *value_out);

/* Spawns fn(ctx, arg, buffer) in a task; ctx (may be NULL: background) is
 * passed through. */
WEFT_NODISCARD int weft_future_spawn(weft_ctx_t *ctx, size_t value_size, weft_future_fn fn,
                      void *arg, weft_future_t **out);
weft_future_t *weft_future_retain(weft_future_t *f);
int weft_future_release(weft_future_t *f);
/* Waits for the result: copies the value to value_out (may be NULL) and returns
 * fn's code; or WEFT_ECANCELED / WEFT_ETIMEDOUT when ctx ends first (the future
 * keeps running). fn's code and the wait's share the return value (an fn that
 * returns -110 reads as WEFT_ETIMEDOUT): prefer weft_future_await_result.
 * Blocks: yes. */
WEFT_NODISCARD int weft_future_await(weft_future_t *f, weft_ctx_t *ctx, void *value_out);
/* Waits for the result (since 0.2). Returns 0 once fn has returned: its code in
 * *result (result may be NULL), its value copied to value_out (may be NULL).
 * Otherwise a code of the wait's own, with *result and value_out untouched:
 * WEFT_EINVAL for a bad handle, WEFT_ETIMEDOUT at deadline_ns, WEFT_ECANCELED /
 * WEFT_ETIMEDOUT when ctx (NULL: none) ends first, WEFT_ESHUTDOWN; the future
 * keeps running and may be awaited again. Blocks: yes. */
WEFT_NODISCARD int weft_future_await_result(weft_future_t *f, void *value_out, int *result);
WEFT_NODISCARD int weft_future_await_result_until(weft_future_t *f, int64_t deadline_ns,
                                   void *value_out, int *result);
WEFT_NODISCARD int weft_future_await_result_ctx(weft_future_t *f, weft_ctx_t *ctx,
                                 void *value_out, int *result);
/* 1 once the result is there. */
WEFT_NODISCARD int weft_future_ready(weft_future_t *f);

typedef struct weft_job {
  weft_future_fn fn;
  void *arg;
} weft_job;

/* Runs every job in its own task (at most limit at once; <= 0: no limit) and
 * waits for all: values[i*value_size] and errs[i] hold job i's result, in input
 * order; a job not finished when ctx ends gets WEFT_ECANCELED/WEFT_ETIMEDOUT
 * (WEFT_ESHUTDOWN when shutdown ends the wait). Returns the number of jobs that
 * succeeded. Blocks: yes. */
WEFT_NODISCARD int64_t weft_collect(weft_ctx_t *ctx, const weft_job *jobs, size_t n,
                     size_t value_size, void *values, int *errs, int64_t limit);

/* ------------------------------------------------------ async completions */

/* For event loops that must never block (the Python binding's asyncio bridge):
 * each *_async call starts a blocking operation and returns at once. The
 * runtime spawns a task that performs the operation exactly as the blocking
 * call would, then sends one weft_completion {tag, result} on notify, a channel
 * the caller made with elem_size == sizeof(weft_completion) (WEFT_EINVAL
 * otherwise); result is what the blocking call would have returned.
 *  - Returns 0 once the operation is started: exactly one completion follows
 *    (unless notify is closed, or the runtime shuts down, before it is sent).
 *    A negative code means nothing was started and no completion will come.
 *  - The completion is sent with a blocking send: while notify is full the
 *    operation's task parks (the caller never blocks). Size notify generously
 *    or keep reading it.
 *  - ctx (NULL: none) cancels the operation: result WEFT_ECANCELED or
 *    WEFT_ETIMEDOUT, and the operation did not happen (nothing received or
 *    sent, no lock or units held). A completion with result 0 means it did
 *    happen, even if ctx was canceled meanwhile. weft_async_cancel(notify,
 *    tag) does the same without a context of the caller's.
 *  - Tags must be unique among the pending operations of one notify:
 *    WEFT_EBUSY (nothing started) for a tag already pending.
 *  - Handles (ch, wg, mu, sem, ctx, notify, the channels in cases) are retained
 *    by the operation: the caller may release them at once. Buffers (out, elem,
 *    cases) are the caller's: they must stay valid and untouched until the
 *    completion arrives.
 * Blocks: no (all of them). */
typedef struct weft_completion {
  uint64_t tag;     /* the caller's tag, passed through */
  int32_t result;   /* the blocking call's return value */
  int32_t reserved; /* 0 */
} weft_completion;

/* weft_chan_recv_ctx into out (NULL discards), asynchronously. */
WEFT_NODISCARD int weft_chan_recv_async(weft_chan_t *ch, void *out, weft_ctx_t *ctx,
                         weft_chan_t *notify, uint64_t tag);
/* weft_chan_send_ctx of the elem_size bytes at elem, asynchronously. */
WEFT_NODISCARD int weft_chan_send_async(weft_chan_t *ch, const void *elem, weft_ctx_t *ctx,
                         weft_chan_t *notify, uint64_t tag);
/* weft_select_ctx over cases[0..n) (no default), asynchronously: result is
 * the index of the case that fired (its result field is set) or a negative
 * code. n == 0 (cases may be NULL) waits until ctx ends or the op is canceled. */
WEFT_NODISCARD int weft_select_async(weft_case *cases, size_t n, weft_ctx_t *ctx,
                      weft_chan_t *notify, uint64_t tag);
/* weft_wg_wait_ctx, asynchronously. */
WEFT_NODISCARD int weft_wg_wait_async(weft_wg_t *wg, weft_ctx_t *ctx, weft_chan_t *notify,
                       uint64_t tag);
/* weft_mutex_lock_ctx, asynchronously: result 0 means the lock is held (by
 * whoever owns the completion; unlock it even if no longer wanted). */
WEFT_NODISCARD int weft_mutex_lock_async(weft_mutex_t *mu, weft_ctx_t *ctx, weft_chan_t *notify,
                          uint64_t tag);
/* weft_sem_acquire_ctx of n units, asynchronously. */
WEFT_NODISCARD int weft_sem_acquire_async(weft_sem_t *sem, int64_t n, weft_ctx_t *ctx,
                           weft_chan_t *notify, uint64_t tag);
/* weft_ctx_wait, asynchronously: completes with weft_ctx_err(ctx) once ctx is
 * done. WEFT_EDEADLK at once for a context that can never be done; to stop
 * waiting early, wait on a weft_ctx_with_cancel child and cancel that. */
WEFT_NODISCARD int weft_ctx_wait_async(weft_ctx_t *ctx, weft_chan_t *notify, uint64_t tag);

/* Withdraws the pending operation started on notify with tag: 1 if it was
 * pending (its completion follows: WEFT_ECANCELED, or 0 when it completed
 * first), 0 if none is (its completion was sent already), WEFT_EINVAL for a
 * bad notify. Blocks: no. */
int weft_async_cancel(weft_chan_t *notify, uint64_t tag);
/* An eventfd (EFD_NONBLOCK) that becomes readable when completions arrive on
 * notify, for poll/epoll/an event loop (asyncio add_reader, trio
 * wait_readable); made on the first call, the same fd afterwards. Borrowed:
 * the runtime owns it: don't read or close it; it stays valid while notify
 * lives. Then
 * drain with weft_async_poll. WEFT_EINVAL for a bad notify, WEFT_ENOMEM when
 * no fd can be made. Blocks: no. */
WEFT_NODISCARD WEFT_BORROWED int weft_async_fd(weft_chan_t *notify);
/* Resets notify's eventfd, then moves up to max completions from notify into
 * out: returns how many (0: none waiting). When it returns max, call again:
 * the fd only signals completions that arrive after the reset. WEFT_EINVAL
 * for a bad notify, out NULL or max 0. Blocks: no. */
WEFT_NODISCARD int weft_async_poll(weft_chan_t *notify, weft_completion *out, size_t max);
/* How many completions found notify full so far (they wait, parked, until
 * the caller drains: none is lost). The fd signals on each. Blocks: no. */
WEFT_NODISCARD int64_t weft_async_overflows(weft_chan_t *notify);

/* ------------------------------------------------------------ fd readiness */

/* Task-aware waits on any non-blocking descriptor (for plugging in libraries
 * that expose their fd: hiredis, libpq, libcurl multi, c-ares). In a task the
 * wait registers the fd on the task's worker loop (libuv uv_poll; the fd is
 * set O_NONBLOCK) and parks; the loop's poll wakes it. One registration per fd
 * per loop, reused by later waits. From a plain thread: poll(2), which looks
 * at the context, the deadline and a concurrent close every 5 ms.
 * An fd that was waited on in a task must be closed with weft_fd_close (or
 * given back with weft_fd_forget before something else closes it): the loops
 * keep watching it otherwise. */
#define WEFT_FD_READABLE 1
#define WEFT_FD_WRITABLE 2

/* Waits until fd is ready for one of events (WEFT_FD_READABLE and/or
 * WEFT_FD_WRITABLE); returns the ready one (readiness may be spurious: retry
 * the system call, and wait again on EAGAIN; an error or hang-up on the fd
 * counts as ready, the next read or write reports it). WEFT_EBADF for a
 * negative or closed fd, WEFT_EINVAL for bad events or an fd epoll cannot
 * watch (a regular file), WEFT_ECLOSED when weft_fd_close/forget ran
 * meanwhile, WEFT_ETIMEDOUT, WEFT_ECANCELED, WEFT_ESHUTDOWN. Any number of
 * tasks and threads may wait on one fd. Blocks: yes. */
WEFT_NODISCARD int weft_fd_wait(int fd, int events);
WEFT_NODISCARD int weft_fd_wait_until(int fd, int events, int64_t deadline_ns);
WEFT_NODISCARD int weft_fd_wait_ctx(int fd, int events, weft_ctx_t *ctx);
/* Wakes every waiter on fd with WEFT_ECLOSED, stops watching fd on every loop,
 * then close(2)s it. WEFT_EBADF for a closed fd, WEFT_ECLOSED while another
 * close of it runs. Blocks: briefly, until each loop has dropped the fd. */
int weft_fd_close(int fd);
/* weft_fd_close without the close(2): the fd stays open and unwatched.
 * Blocks: briefly, like weft_fd_close. */
int weft_fd_forget(int fd);

/* --------------------------------------------------------- blocking offload */

/* Runs fn(arg) on the blocking-offload pool (weft_config.offload_threads OS
 * threads, started on demand; jobs queue FIFO beyond that) while the caller
 * parks: for calls that would block a worker (file I/O, getaddrinfo, legacy
 * blocking libraries). Returns 0 once fn returned. WEFT_ETIMEDOUT /
 * WEFT_ECANCELED / WEFT_ESHUTDOWN when the wait ends first: fn still runs (or
 * finishes) on its pool thread, so arg must stay valid until fn returns (let
 * fn own it). A deadline already past or a context already done returns its
 * error at once and fn does not run. WEFT_EINVAL for a NULL fn. Blocks: yes. */
WEFT_NODISCARD int weft_offload(weft_fn fn, void *arg);
WEFT_NODISCARD int weft_offload_until(weft_fn fn, void *arg, int64_t deadline_ns);
WEFT_NODISCARD int weft_offload_ctx(weft_fn fn, void *arg, weft_ctx_t *ctx);

/* ------------------------------------------------------------------ sockets */

/* TCP (IPv4 and IPv6) and Unix-domain stream sockets as handles. Every call
 * parks a task (blocks a thread) only while the kernel says EAGAIN; the
 * reads and writes go straight between the socket and the caller's buffer.
 * Accepted and connected TCP sockets have TCP_NODELAY set. A handle is
 * reference counted: weft_sock_close closes the socket (every call waiting
 * on it returns WEFT_ECLOSED; the fd is closed once no call is in flight) and
 * drops the caller's reference; weft_sock_retain gives another task its own.
 * Calls on a closed socket return WEFT_ECLOSED; NULL or released handles
 * WEFT_EINVAL. Errors are the I/O codes above (WEFT_ECONNREFUSED,
 * WEFT_ECONNRESET, WEFT_EPIPE, WEFT_EADDRINUSE, WEFT_ENAMENOTFOUND, ...). */
typedef struct weft_sock weft_sock_t;

/* Listens on host:port with SO_REUSEADDR (host NULL or "": every address;
 * port 0: one the kernel picks, see weft_sock_local_port); backlog <= 0:
 * SOMAXCONN. A host name is resolved on the offload pool. Blocks: only to
 * resolve a name. */
WEFT_NODISCARD int weft_tcp_listen(const char *host, int port, int backlog, weft_sock_t **out);
/* Listens on a Unix socket at path (WEFT_EADDRINUSE if it exists: unlink it
 * first). Blocks: no. */
WEFT_NODISCARD int weft_unix_listen(const char *path, int backlog, weft_sock_t **out);
/* Takes the next connection. Blocks: yes. */
WEFT_NODISCARD int weft_sock_accept(weft_sock_t *listener, weft_sock_t **out);
WEFT_NODISCARD int weft_sock_accept_until(weft_sock_t *listener, int64_t deadline_ns, weft_sock_t **out);
WEFT_NODISCARD int weft_sock_accept_ctx(weft_sock_t *listener, weft_ctx_t *ctx, weft_sock_t **out);
/* Connects to host:port; host names are resolved on the offload pool, never
 * on a worker; each address is tried in turn. Blocks: yes. */
WEFT_NODISCARD int weft_tcp_connect(const char *host, int port, weft_sock_t **out);
WEFT_NODISCARD int weft_tcp_connect_until(const char *host, int port, int64_t deadline_ns, weft_sock_t **out);
WEFT_NODISCARD int weft_tcp_connect_ctx(const char *host, int port, weft_ctx_t *ctx, weft_sock_t **out);
WEFT_NODISCARD int weft_unix_connect(const char *path, weft_sock_t **out);
WEFT_NODISCARD int weft_unix_connect_until(const char *path, int64_t deadline_ns, weft_sock_t **out);
WEFT_NODISCARD int weft_unix_connect_ctx(const char *path, weft_ctx_t *ctx, weft_sock_t **out);
/* Reads some bytes (at most len): their number (> 0), 0 at end of stream
 * (and for len 0), or a negative code. Blocks: yes. */
WEFT_NODISCARD int64_t weft_sock_read(weft_sock_t *s, void *buf, size_t len);
WEFT_NODISCARD int64_t weft_sock_read_until(weft_sock_t *s, void *buf, size_t len, int64_t deadline_ns);
WEFT_NODISCARD int64_t weft_sock_read_ctx(weft_sock_t *s, void *buf, size_t len, weft_ctx_t *ctx);
/* Reads exactly len bytes: len, WEFT_EOF when the stream ends first, or
 * another negative code (the bytes read so far are in buf). Blocks: yes. */
WEFT_NODISCARD int64_t weft_sock_read_full(weft_sock_t *s, void *buf, size_t len);
WEFT_NODISCARD int64_t weft_sock_read_full_until(weft_sock_t *s, void *buf, size_t len, int64_t deadline_ns);
WEFT_NODISCARD int64_t weft_sock_read_full_ctx(weft_sock_t *s, void *buf, size_t len, weft_ctx_t *ctx);
/* Writes all len bytes, parking while the socket buffer is full: len, or a
 * negative code (WEFT_EPIPE / WEFT_ECONNRESET once the peer is gone; part of
 * buf may have been sent). Blocks: yes. */
WEFT_NODISCARD int64_t weft_sock_write(weft_sock_t *s, const void *buf, size_t len);
WEFT_NODISCARD int64_t weft_sock_write_until(weft_sock_t *s, const void *buf, size_t len, int64_t deadline_ns);
WEFT_NODISCARD int64_t weft_sock_write_ctx(weft_sock_t *s, const void *buf, size_t len, weft_ctx_t *ctx);
/* Shuts down the write side: the peer reads end of stream. Blocks: no. */
int weft_sock_shutdown(weft_sock_t *s);
/* Closes the socket and drops the caller's reference (see above). Blocks:
 * briefly, like weft_fd_close. */
int weft_sock_close(weft_sock_t *s);
/* Another reference to s (NULL for a bad handle), for another task. */
weft_sock_t *weft_sock_retain(weft_sock_t *s);
/* Drops a reference; the last one closes the socket if still open. Blocks:
 * briefly, like weft_sock_close, when it closes. */
int weft_sock_release(weft_sock_t *s);
/* The socket's fd (for setsockopt and the like). Borrowed: owned by s, valid
 * until weft_sock_close; do not close it. */
WEFT_NODISCARD WEFT_BORROWED int weft_sock_fd(weft_sock_t *s);
/* The local / peer address as text ("127.0.0.1:8080", "[::1]:8080", a Unix
 * path) into buf (NUL-terminated): its length, WEFT_ERANGE when buf is too
 * small, WEFT_ENOTCONN for the peer of an unconnected socket. Blocks: no. */
WEFT_NODISCARD int weft_sock_local_addr(weft_sock_t *s, char *buf, size_t len);
WEFT_NODISCARD int weft_sock_peer_addr(weft_sock_t *s, char *buf, size_t len);
/* The local TCP port (0 for a Unix socket). Blocks: no. */
WEFT_NODISCARD int weft_sock_local_port(weft_sock_t *s);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_H */
