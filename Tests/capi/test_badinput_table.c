/* The bad-input table: every function in weft.h with NULL, released, wrong-kind
 * and foreign handles, absurd sizes, negative/huge/overflowing times, misuse and
 * calls during and after shutdown. Each case runs in its own forked child (which
 * starts its own runtime) under a time limit, so a crash or hang is a failure
 * naming the case, not the end of the run. Then every function the header
 * declares must be named by some case (a new function can't be forgotten).
 * Usage: test_badinput_table [substring]  (runs only the matching cases). */
#define _GNU_SOURCE
#include "check.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL
#define CASE_LIMIT_S 10

/* ------------------------------------------------------------- handles */

enum kind { K_CHAN, K_CTX, K_WG, K_MUTEX, K_RWMUTEX, K_ONCE, K_COND, K_SEM, K_GROUP, K_FUTURE, K_AF, K_SOCK, K_COUNT };
static const char *kind_names[K_COUNT] = {"chan", "ctx", "wg", "mutex", "rwmutex", "once",
                                          "cond", "sem", "group", "future", "after_func", "sock"};

static void noop(void *arg) { (void)arg; }
static int future_ok(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx, (void)arg;
  if (out) memset(out, 7, 8);
  return 0;
}
static int group_ok(weft_ctx_t *ctx, void *arg) { (void)ctx, (void)arg; return 0; }

/* A live handle of kind k (fails the case if it cannot be made). */
static void *make(enum kind k) {
  void *h = NULL;
  int rc = -1;
  switch (k) {
  case K_CHAN: rc = weft_chan_make(8, 4, (weft_chan_t **)&h); break;
  case K_CTX: rc = weft_ctx_with_cancel(NULL, (weft_ctx_t **)&h); break;
  case K_WG: rc = weft_wg_make((weft_wg_t **)&h); break;
  case K_MUTEX: rc = weft_mutex_make((weft_mutex_t **)&h); break;
  case K_RWMUTEX: rc = weft_rwmutex_make((weft_rwmutex_t **)&h); break;
  case K_ONCE: rc = weft_once_make((weft_once_t **)&h); break;
  case K_COND: rc = weft_cond_make(make(K_MUTEX), (weft_cond_t **)&h); break;
  case K_SEM: rc = weft_sem_make(4, (weft_sem_t **)&h); break;
  case K_GROUP: rc = weft_group_make(NULL, (weft_group_t **)&h, NULL); break;
  case K_FUTURE: rc = weft_future_spawn(NULL, 8, future_ok, NULL, (weft_future_t **)&h); break;
  case K_AF: rc = weft_ctx_after_func(make(K_CTX), noop, NULL, (weft_after_func_t **)&h); break;
  case K_SOCK: rc = weft_tcp_listen("127.0.0.1", 0, 0, (weft_sock_t **)&h); break;
  default: break;
  }
  if (rc != 0 || h == NULL) {
    fprintf(stderr, "cannot make a %s: %s\n", kind_names[k], weft_err_name(rc));
    exit(3);
  }
  return h;
}

static int release(enum kind k, void *h) {
  switch (k) {
  case K_CHAN: return weft_chan_release(h);
  case K_CTX: return weft_ctx_release(h);
  case K_WG: return weft_wg_release(h);
  case K_MUTEX: return weft_mutex_release(h);
  case K_RWMUTEX: return weft_rwmutex_release(h);
  case K_ONCE: return weft_once_release(h);
  case K_COND: return weft_cond_release(h);
  case K_SEM: return weft_sem_release(h);
  case K_GROUP: return weft_group_release(h);
  case K_FUTURE: return weft_future_release(h);
  case K_AF: return weft_after_func_release(h);
  case K_SOCK: return weft_sock_release(h);
  default: return -1;
  }
}

enum variant { V_NULL, V_RELEASED, V_DOUBLE_RELEASED, V_REUSED, V_WRONG_KIND, V_FOREIGN_STATIC, V_FOREIGN_HEAP,
               V_FOREIGN_FREED, V_COUNT };
static const char *variant_names[V_COUNT] = {"NULL", "released", "released twice",
                                             "released, slot reused by a live one", "wrong kind",
                                             "foreign (static)", "foreign (heap)", "foreign (freed heap)"};
static long long foreign_static[64];

/* The bad handle of the variant for kind k. */
static void *bad(enum kind k, enum variant v) {
  void *h;
  switch (v) {
  case V_NULL: return NULL;
  case V_RELEASED:
    h = make(k);
    if (release(k, h) != 0) exit(4);
    return h;
  case V_DOUBLE_RELEASED:
    h = make(k);
    if (release(k, h) != 0) exit(4);
    if (release(k, h) != WEFT_EINVAL) { fprintf(stderr, "second release accepted\n"); exit(1); }
    return h;
  case V_REUSED: /* the ABA case: a new handle of the same kind takes the slot */
    h = make(k);
    if (release(k, h) != 0) exit(4);
    for (int i = 0; i < 4; i++) {
      void *again = make(k);
      if (again == h) { fprintf(stderr, "a released handle was issued again\n"); exit(1); }
    }
    return h;
  case V_WRONG_KIND: return make(k == K_CHAN ? K_WG : K_CHAN);
  case V_FOREIGN_STATIC:
    memset(foreign_static, 0x57, sizeof foreign_static);
    return foreign_static;
  case V_FOREIGN_HEAP:
    h = malloc(256);
    memset(h, 0xA5, 256);
    return h;
  case V_FOREIGN_FREED:
    h = malloc(256);
    free(h);
    return h;
  default: return NULL;
  }
}

/* A channel of completions for the async calls. */
static weft_chan_t *notify(void) {
  weft_chan_t *ch;
  CHECK_OK(weft_chan_make(sizeof(weft_completion), 16, &ch));
  return ch;
}

#define PTR(e) ((e) == NULL ? WEFT_EINVAL : 1)
static int64_t out64;
static char buf[64];
static int res32;
static size_t size_out;

/* Every function taking a handle, called with the bad handle h as that handle:
 * X(kind, function, expression). Each must give WEFT_EINVAL (pointer results:
 * NULL; weft_chan_elem_size: 0). */
#define HANDLE_CALLS(X)                                                               \
  X(K_CHAN, weft_chan_retain, PTR(weft_chan_retain(h)))                               \
  X(K_CHAN, weft_chan_release, weft_chan_release(h))                                  \
  X(K_CHAN, weft_chan_send, weft_chan_send(h, &out64))                                \
  X(K_CHAN, weft_chan_try_send, weft_chan_try_send(h, &out64))                        \
  X(K_CHAN, weft_chan_send_until, weft_chan_send_until(h, &out64, weft_now_ns() + MS)) \
  X(K_CHAN, weft_chan_send_ctx, weft_chan_send_ctx(h, &out64, NULL))                  \
  X(K_CHAN, weft_chan_recv, weft_chan_recv(h, buf))                                   \
  X(K_CHAN, weft_chan_try_recv, weft_chan_try_recv(h, buf))                           \
  X(K_CHAN, weft_chan_recv_until, weft_chan_recv_until(h, buf, weft_now_ns() + MS))   \
  X(K_CHAN, weft_chan_recv_ctx, weft_chan_recv_ctx(h, buf, NULL))                     \
  X(K_CHAN, weft_chan_close, weft_chan_close(h))                                      \
  X(K_CHAN, weft_chan_len, (int)weft_chan_len(h))                                     \
  X(K_CHAN, weft_chan_cap, (int)weft_chan_cap(h))                                     \
  X(K_CHAN, weft_chan_elem_size, (weft_chan_elem_size(h) == 0 ? WEFT_EINVAL : 1))     \
  X(K_CHAN, weft_chan_elem_size_get, weft_chan_elem_size_get(h, &size_out))         \
  X(K_CHAN, weft_timer_stop, weft_timer_stop(h))                                      \
  X(K_CHAN, weft_select, select_one(h, 0))                                            \
  X(K_CHAN, weft_select_ctx, select_one(h, 1))                                        \
  X(K_CHAN, weft_select_async, select_one(h, 2))                                      \
  X(K_CHAN, weft_chan_recv_async, weft_chan_recv_async(h, buf, NULL, notify(), 1))    \
  X(K_CHAN, weft_chan_send_async, weft_chan_send_async(h, &out64, NULL, notify(), 1)) \
  X(K_CHAN, weft_chan_recv_async, weft_chan_recv_async(make(K_CHAN), buf, NULL, h, 1)) \
  X(K_CHAN, weft_chan_closed, weft_chan_closed(h))                                    \
  X(K_CHAN, weft_async_cancel, weft_async_cancel(h, 1))                               \
  X(K_CHAN, weft_async_fd, weft_async_fd(h))                                          \
  X(K_CHAN, weft_async_poll, weft_async_poll(h, (weft_completion *)buf, 2))           \
  X(K_CHAN, weft_async_overflows, (int)weft_async_overflows(h))                       \
  X(K_CHAN, weft_wg_wait_async, weft_wg_wait_async(make(K_WG), NULL, h, 1))           \
  X(K_CHAN, weft_ctx_wait_async, weft_ctx_wait_async(make(K_CTX), h, 1))              \
  X(K_CTX, weft_ctx_with_cancel, weft_ctx_with_cancel(h, (weft_ctx_t **)&out64))      \
  X(K_CTX, weft_ctx_with_timeout, weft_ctx_with_timeout(h, MS, (weft_ctx_t **)&out64)) \
  X(K_CTX, weft_ctx_with_deadline, weft_ctx_with_deadline(h, 0, (weft_ctx_t **)&out64)) \
  X(K_CTX, weft_ctx_with_value, weft_ctx_with_value(h, buf, NULL, NULL, (weft_ctx_t **)&out64)) \
  X(K_CTX, weft_ctx_without_cancel, weft_ctx_without_cancel(h, (weft_ctx_t **)&out64)) \
  X(K_CTX, weft_ctx_with_signals, weft_ctx_with_signals(h, (weft_ctx_t **)&out64))    \
  X(K_CTX, weft_ctx_retain, PTR(weft_ctx_retain(h)))                                  \
  X(K_CTX, weft_ctx_release, weft_ctx_release(h))                                     \
  X(K_CTX, weft_ctx_cancel, weft_ctx_cancel(h))                                       \
  X(K_CTX, weft_ctx_cancel_cause, weft_ctx_cancel_cause(h, 5))                        \
  X(K_CTX, weft_ctx_err, weft_ctx_err(h))                                             \
  X(K_CTX, weft_ctx_cause, weft_ctx_cause(h))                                         \
  X(K_CTX, weft_ctx_deadline, weft_ctx_deadline(h, &out64))                           \
  X(K_CTX, weft_ctx_value, PTR(weft_ctx_value(h, buf)))                               \
  X(K_CTX, weft_ctx_done, PTR(weft_ctx_done(h)))                                      \
  X(K_CTX, weft_ctx_wait, weft_ctx_wait(h))                                           \
  X(K_CTX, weft_ctx_wait_async, weft_ctx_wait_async(h, notify(), 1))                  \
  X(K_CTX, weft_ctx_after_func, weft_ctx_after_func(h, noop, NULL, NULL))             \
  X(K_CTX, weft_chan_send_ctx, weft_chan_send_ctx(make(K_CHAN), &out64, h))           \
  X(K_CTX, weft_chan_recv_ctx, weft_chan_recv_ctx(make(K_CHAN), buf, h))              \
  X(K_CTX, weft_select_ctx, weft_select_ctx(NULL, 0, 0, h))                           \
  X(K_CTX, weft_wg_wait_ctx, weft_wg_wait_ctx(make(K_WG), h))                         \
  X(K_CTX, weft_mutex_lock_ctx, weft_mutex_lock_ctx(make(K_MUTEX), h))                \
  X(K_CTX, weft_rwmutex_rlock_ctx, weft_rwmutex_rlock_ctx(make(K_RWMUTEX), h))        \
  X(K_CTX, weft_rwmutex_lock_ctx, weft_rwmutex_lock_ctx(make(K_RWMUTEX), h))          \
  X(K_CTX, weft_once_do_ctx, weft_once_do_ctx(make(K_ONCE), noop, NULL, h))           \
  X(K_CTX, weft_cond_wait_ctx, weft_cond_wait_ctx(make(K_COND), h))                   \
  X(K_CTX, weft_sem_acquire_ctx, weft_sem_acquire_ctx(make(K_SEM), 1, h))             \
  X(K_CTX, weft_group_make, weft_group_make(h, (weft_group_t **)&out64, NULL))        \
  X(K_CTX, weft_future_spawn, weft_future_spawn(h, 8, future_ok, NULL, (weft_future_t **)&out64)) \
  X(K_CTX, weft_future_await, weft_future_await(make(K_FUTURE), h, buf))              \
  X(K_CTX, weft_collect, (int)collect_one(h))                                         \
  X(K_CTX, weft_chan_recv_async, weft_chan_recv_async(make(K_CHAN), buf, h, notify(), 1)) \
  X(K_CTX, weft_chan_send_async, weft_chan_send_async(make(K_CHAN), &out64, h, notify(), 1)) \
  X(K_CTX, weft_select_async, select_async_ctx(h))                                    \
  X(K_CTX, weft_wg_wait_async, weft_wg_wait_async(make(K_WG), h, notify(), 1))        \
  X(K_CTX, weft_mutex_lock_async, weft_mutex_lock_async(make(K_MUTEX), h, notify(), 1)) \
  X(K_CTX, weft_sem_acquire_async, weft_sem_acquire_async(make(K_SEM), 1, h, notify(), 1)) \
  X(K_WG, weft_wg_retain, PTR(weft_wg_retain(h)))                                     \
  X(K_WG, weft_wg_release, weft_wg_release(h))                                        \
  X(K_WG, weft_wg_add, weft_wg_add(h, 1))                                             \
  X(K_WG, weft_wg_done, weft_wg_done(h))                                              \
  X(K_WG, weft_wg_wait, weft_wg_wait(h))                                              \
  X(K_WG, weft_wg_wait_until, weft_wg_wait_until(h, weft_now_ns() + MS))              \
  X(K_WG, weft_wg_wait_ctx, weft_wg_wait_ctx(h, NULL))                                \
  X(K_WG, weft_wg_go, weft_wg_go(h, noop, NULL))                                      \
  X(K_WG, weft_wg_wait_async, weft_wg_wait_async(h, NULL, notify(), 1))               \
  X(K_MUTEX, weft_mutex_retain, PTR(weft_mutex_retain(h)))                            \
  X(K_MUTEX, weft_mutex_release, weft_mutex_release(h))                               \
  X(K_MUTEX, weft_mutex_lock, weft_mutex_lock(h))                                     \
  X(K_MUTEX, weft_mutex_try_lock, weft_mutex_try_lock(h))                             \
  X(K_MUTEX, weft_mutex_lock_until, weft_mutex_lock_until(h, weft_now_ns() + MS))     \
  X(K_MUTEX, weft_mutex_lock_ctx, weft_mutex_lock_ctx(h, NULL))                       \
  X(K_MUTEX, weft_mutex_unlock, weft_mutex_unlock(h))                                 \
  X(K_MUTEX, weft_mutex_lock_async, weft_mutex_lock_async(h, NULL, notify(), 1))      \
  X(K_MUTEX, weft_cond_make, weft_cond_make(h, (weft_cond_t **)&out64))               \
  X(K_RWMUTEX, weft_rwmutex_retain, PTR(weft_rwmutex_retain(h)))                      \
  X(K_RWMUTEX, weft_rwmutex_release, weft_rwmutex_release(h))                         \
  X(K_RWMUTEX, weft_rwmutex_rlock, weft_rwmutex_rlock(h))                             \
  X(K_RWMUTEX, weft_rwmutex_try_rlock, weft_rwmutex_try_rlock(h))                     \
  X(K_RWMUTEX, weft_rwmutex_rlock_until, weft_rwmutex_rlock_until(h, weft_now_ns() + MS)) \
  X(K_RWMUTEX, weft_rwmutex_rlock_ctx, weft_rwmutex_rlock_ctx(h, NULL))               \
  X(K_RWMUTEX, weft_rwmutex_runlock, weft_rwmutex_runlock(h))                         \
  X(K_RWMUTEX, weft_rwmutex_lock, weft_rwmutex_lock(h))                               \
  X(K_RWMUTEX, weft_rwmutex_try_lock, weft_rwmutex_try_lock(h))                       \
  X(K_RWMUTEX, weft_rwmutex_lock_until, weft_rwmutex_lock_until(h, weft_now_ns() + MS)) \
  X(K_RWMUTEX, weft_rwmutex_lock_ctx, weft_rwmutex_lock_ctx(h, NULL))                 \
  X(K_RWMUTEX, weft_rwmutex_unlock, weft_rwmutex_unlock(h))                           \
  X(K_ONCE, weft_once_retain, PTR(weft_once_retain(h)))                               \
  X(K_ONCE, weft_once_release, weft_once_release(h))                                  \
  X(K_ONCE, weft_once_do, weft_once_do(h, noop, NULL))                                \
  X(K_ONCE, weft_once_do_ctx, weft_once_do_ctx(h, noop, NULL, NULL))                  \
  X(K_ONCE, weft_once_do_until, weft_once_do_until(h, noop, NULL, weft_now_ns() + MS)) \
  X(K_COND, weft_cond_retain, PTR(weft_cond_retain(h)))                               \
  X(K_COND, weft_cond_release, weft_cond_release(h))                                  \
  X(K_COND, weft_cond_wait, weft_cond_wait(h))                                        \
  X(K_COND, weft_cond_wait_until, weft_cond_wait_until(h, weft_now_ns() + MS))        \
  X(K_COND, weft_cond_wait_ctx, weft_cond_wait_ctx(h, NULL))                          \
  X(K_COND, weft_cond_signal, weft_cond_signal(h))                                    \
  X(K_COND, weft_cond_broadcast, weft_cond_broadcast(h))                              \
  X(K_SEM, weft_sem_retain, PTR(weft_sem_retain(h)))                                  \
  X(K_SEM, weft_sem_release, weft_sem_release(h))                                     \
  X(K_SEM, weft_sem_acquire, weft_sem_acquire(h, 1))                                  \
  X(K_SEM, weft_sem_try_acquire, weft_sem_try_acquire(h, 1))                          \
  X(K_SEM, weft_sem_acquire_until, weft_sem_acquire_until(h, 1, weft_now_ns() + MS))  \
  X(K_SEM, weft_sem_acquire_ctx, weft_sem_acquire_ctx(h, 1, NULL))                    \
  X(K_SEM, weft_sem_put, weft_sem_put(h, 1))                                          \
  X(K_SEM, weft_sem_acquire_async, weft_sem_acquire_async(h, 1, NULL, notify(), 1))   \
  X(K_GROUP, weft_group_retain, PTR(weft_group_retain(h)))                            \
  X(K_GROUP, weft_group_release, weft_group_release(h))                               \
  X(K_GROUP, weft_group_set_limit, weft_group_set_limit(h, 2))                        \
  X(K_GROUP, weft_group_go, weft_group_go(h, group_ok, NULL))                         \
  X(K_GROUP, weft_group_try_go, weft_group_try_go(h, group_ok, NULL))                 \
  X(K_GROUP, weft_group_wait, weft_group_wait(h))                                     \
  X(K_GROUP, weft_group_wait_result, weft_group_wait_result(h, &res32))              \
  X(K_GROUP, weft_group_wait_result_until, weft_group_wait_result_until(h, weft_now_ns() + MS, &res32)) \
  X(K_GROUP, weft_group_wait_result_ctx, weft_group_wait_result_ctx(h, NULL, &res32)) \
  X(K_FUTURE, weft_future_retain, PTR(weft_future_retain(h)))                         \
  X(K_FUTURE, weft_future_release, weft_future_release(h))                            \
  X(K_FUTURE, weft_future_await, weft_future_await(h, NULL, buf))                     \
  X(K_FUTURE, weft_future_await_result, weft_future_await_result(h, buf, &res32))    \
  X(K_FUTURE, weft_future_await_result_until, weft_future_await_result_until(h, weft_now_ns() + MS, buf, &res32)) \
  X(K_FUTURE, weft_future_await_result_ctx, weft_future_await_result_ctx(h, NULL, buf, &res32)) \
  X(K_FUTURE, weft_future_ready, weft_future_ready(h))                                \
  X(K_AF, weft_after_func_stop, weft_after_func_stop(h))                              \
  X(K_AF, weft_after_func_release, weft_after_func_release(h))                        \
  X(K_SOCK, weft_sock_accept, weft_sock_accept(h, (weft_sock_t **)&out64))            \
  X(K_SOCK, weft_sock_accept_until, weft_sock_accept_until(h, weft_now_ns() + MS, (weft_sock_t **)&out64)) \
  X(K_SOCK, weft_sock_accept_ctx, weft_sock_accept_ctx(h, NULL, (weft_sock_t **)&out64)) \
  X(K_SOCK, weft_sock_read, (int)weft_sock_read(h, buf, 1))                           \
  X(K_SOCK, weft_sock_read_until, (int)weft_sock_read_until(h, buf, 1, weft_now_ns() + MS)) \
  X(K_SOCK, weft_sock_read_ctx, (int)weft_sock_read_ctx(h, buf, 1, NULL))             \
  X(K_SOCK, weft_sock_read_full, (int)weft_sock_read_full(h, buf, 1))                 \
  X(K_SOCK, weft_sock_read_full_until, (int)weft_sock_read_full_until(h, buf, 1, weft_now_ns() + MS)) \
  X(K_SOCK, weft_sock_read_full_ctx, (int)weft_sock_read_full_ctx(h, buf, 1, NULL))   \
  X(K_SOCK, weft_sock_write, (int)weft_sock_write(h, buf, 1))                         \
  X(K_SOCK, weft_sock_write_until, (int)weft_sock_write_until(h, buf, 1, weft_now_ns() + MS)) \
  X(K_SOCK, weft_sock_write_ctx, (int)weft_sock_write_ctx(h, buf, 1, NULL))           \
  X(K_SOCK, weft_sock_shutdown, weft_sock_shutdown(h))                                \
  X(K_SOCK, weft_sock_close, weft_sock_close(h))                                      \
  X(K_SOCK, weft_sock_retain, PTR(weft_sock_retain(h)))                               \
  X(K_SOCK, weft_sock_release, weft_sock_release(h))                                  \
  X(K_SOCK, weft_sock_fd, weft_sock_fd(h))                                            \
  X(K_SOCK, weft_sock_local_addr, weft_sock_local_addr(h, buf, sizeof buf))           \
  X(K_SOCK, weft_sock_peer_addr, weft_sock_peer_addr(h, buf, sizeof buf))             \
  X(K_SOCK, weft_sock_local_port, weft_sock_local_port(h))                            \
  X(K_CTX, weft_fd_wait_ctx, weft_fd_wait_ctx(0, WEFT_FD_READABLE, h))                \
  X(K_CTX, weft_offload_ctx, weft_offload_ctx(noop, NULL, h))                         \
  X(K_CTX, weft_tcp_connect_ctx, weft_tcp_connect_ctx("127.0.0.1", 9, h, (weft_sock_t **)&out64)) \
  X(K_CTX, weft_unix_connect_ctx, weft_unix_connect_ctx("/nonexistent", h, (weft_sock_t **)&out64))

/* weft_select (mode 0), _ctx (1) or _async (2) with one receive case on ch. */
static int select_one(void *ch, int mode) {
  weft_case c = {.chan = ch, .op = WEFT_CASE_RECV};
  if (mode == 0) return weft_select(&c, 1, 0, weft_now_ns() + MS);
  if (mode == 1) return weft_select_ctx(&c, 1, WEFT_SELECT_DEFAULT, NULL);
  return weft_select_async(&c, 1, NULL, notify(), 1);
}

static int select_async_ctx(void *ctx) {
  static weft_case c;
  c.chan = make(K_CHAN);
  c.op = WEFT_CASE_RECV;
  return weft_select_async(&c, 1, ctx, notify(), 1);
}

static int64_t collect_one(void *ctx) {
  weft_job job = {future_ok, NULL};
  static char values[8];
  static int errs[1];
  return weft_collect(ctx, &job, 1, 8, values, errs, 0);
}

/* ---------------------------------------------------------- the cases */

typedef struct tcase {
  char name[96];
  const char *covers; /* the functions it calls, space-separated */
  int (*run)(const struct tcase *);
  int kind, variant, call; /* for handle cases */
} tcase;

#define FAILF(...) (fprintf(stderr, __VA_ARGS__), 1)

static int run_handle_call(int call, void *h) {
  int i = 0;
#define CALL(k, fn, expr) \
  if (i++ == call) return (expr);
  HANDLE_CALLS(CALL)
#undef CALL
  return -9999;
}

static const int call_kinds[] = {
#define KIND(k, fn, expr) k,
    HANDLE_CALLS(KIND)
#undef KIND
};
static const char *call_names[] = {
#define NAME(k, fn, expr) #fn,
    HANDLE_CALLS(NAME)
#undef NAME
};
#define NCALLS ((int)(sizeof call_kinds / sizeof call_kinds[0]))

static int handle_case(const tcase *c) {
  /* NULL names the background context: not a bad context handle. */
  void *h = bad(c->kind, c->variant);
  int got = run_handle_call(c->call, h);
  if (got != WEFT_EINVAL) return FAILF("returned %s (%d), want WEFT_EINVAL\n", weft_err_name(got), got);
  return 0;
}

/* The explicit cases: misuse, sizes, times, lifecycles. Each returns 0 = pass. */
#define EXPECT(expr, want)                                                                       \
  do {                                                                                           \
    long long got_ = (long long)(expr);                                                          \
    if (got_ != (long long)(want))                                                               \
      return FAILF("%s returned %lld (%s), want %s\n", #expr, got_, weft_err_name((int)got_), #want); \
  } while (0)

/* Time: a call that should return at once must do so (no spin, no hang). */
static int64_t t0;
#define START() (t0 = weft_now_ns())
#define PROMPT(max_ms)                                                                      \
  do {                                                                                      \
    if (weft_now_ns() - t0 > (max_ms) * MS)                                                 \
      return FAILF("took %lld ms, want under %d\n", (long long)((weft_now_ns() - t0) / MS), max_ms); \
  } while (0)

static int c_init_small(const tcase *c) {
  (void)c;
  weft_config cfg;
  weft_config_init(&cfg);
  /* 0.1.0's struct ended before offload_threads: that size is still accepted. */
  for (size_t s = 0; s < offsetof(weft_config, offload_threads); s += 8) {
    cfg.size = s;
    EXPECT(weft_init(&cfg), WEFT_EINVAL);
  }
  /* A larger (newer) struct is fine. */
  struct { weft_config cfg; char extra[64]; } big;
  memset(&big, 0, sizeof big);
  weft_config_init(&big.cfg);
  big.cfg.size = sizeof big;
  EXPECT(weft_init(&big.cfg), 0);
  EXPECT(weft_init(&big.cfg), WEFT_EBUSY);
  EXPECT(weft_init(NULL), WEFT_EBUSY);
  return 0;
}

static int c_init_bad_fields(const tcase *c) {
  (void)c;
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = -1;
  EXPECT(weft_init(&cfg), WEFT_EINVAL);
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = INT64_MIN;
  EXPECT(weft_init(&cfg), WEFT_EINVAL);
  weft_config_init(&cfg);
  cfg.stack_size = 1;
  EXPECT(weft_init(&cfg), WEFT_EINVAL);
  cfg.stack_size = SIZE_MAX;
  EXPECT(weft_init(&cfg), WEFT_EINVAL);
  weft_config_init(NULL);
  return 0;
}

static void sleeper(void *arg) { weft_sleep_ns((int64_t)(intptr_t)arg); }

static int c_shutdown_grace_max(const tcase *c) {
  (void)c;
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = INT64_MAX;
  EXPECT(weft_init(&cfg), 0);
  EXPECT(weft_go(sleeper, (void *)(intptr_t)(20 * MS)), 0);
  EXPECT(weft_shutdown(), 0); /* waits for the sleeper, no overflow */
  EXPECT(weft_shutdown(), 0);
  return 0;
}

static int c_after_shutdown(const tcase *c) {
  (void)c;
  weft_chan_t *ch = make(K_CHAN), *unbuf;
  weft_wg_t *wg = make(K_WG);
  weft_mutex_t *mu = make(K_MUTEX);
  CHECK_OK(weft_chan_make(8, 0, &unbuf));
  EXPECT(weft_wg_add(wg, 1), 0);
  EXPECT(weft_shutdown(), 0);
  EXPECT(weft_shutdown(), 0);
  EXPECT(weft_init(NULL), WEFT_ESHUTDOWN);
  EXPECT(weft_go(noop, NULL), WEFT_ESHUTDOWN);
  EXPECT(weft_wg_go(wg, noop, NULL), WEFT_ESHUTDOWN);
  EXPECT(weft_chan_send(unbuf, &out64), WEFT_ESHUTDOWN);
  EXPECT(weft_chan_recv(unbuf, buf), WEFT_ESHUTDOWN);
  EXPECT(weft_wg_wait(wg), WEFT_ESHUTDOWN);
  EXPECT(weft_sleep_ns(MS), WEFT_ESHUTDOWN);
  weft_chan_t *t = NULL;
  int rc = weft_after(MS, &t);
  if (rc != WEFT_ESHUTDOWN) return FAILF("weft_after after shutdown: %s\n", weft_err_name(rc));
  /* Non-blocking calls still work on what exists. */
  EXPECT(weft_chan_try_send(ch, &out64), 0);
  EXPECT(weft_chan_len(ch), 1);
  EXPECT(weft_mutex_try_lock(mu), 0);
  EXPECT(weft_mutex_unlock(mu), 0);
  EXPECT(weft_chan_release(ch), 0);
  EXPECT(weft_chan_release(ch), WEFT_EINVAL);
  weft_stats st = {.size = sizeof st};
  EXPECT(weft_stats_get(&st), 0);
  return 0;
}

static void *shutdown_thread(void *arg) {
  (void)arg;
  weft_shutdown();
  return NULL;
}

static int c_during_shutdown(const tcase *c) {
  (void)c;
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = 300 * MS;
  EXPECT(weft_init(&cfg), 0);
  EXPECT(weft_go(sleeper, (void *)(intptr_t)(200 * MS)), 0);
  weft_sleep_ns(10 * MS);
  pthread_t th;
  pthread_create(&th, NULL, shutdown_thread, NULL);
  weft_sleep_ns(20 * MS);
  weft_chan_t *unbuf;
  CHECK_OK(weft_chan_make(8, 0, &unbuf));
  EXPECT(weft_go(noop, NULL), WEFT_ESHUTDOWN);
  EXPECT(weft_chan_recv_until(unbuf, buf, weft_now_ns() + 50 * MS), WEFT_ESHUTDOWN);
  EXPECT(weft_init(NULL), WEFT_ESHUTDOWN);
  pthread_join(th, NULL);
  return 0;
}

static int c_shutdown_in_task_result = 1;
static void shutdown_in_task(void *arg) {
  (void)arg;
  c_shutdown_in_task_result = weft_shutdown();
}
static int c_shutdown_in_task(const tcase *c) {
  (void)c;
  weft_wg_t *wg = make(K_WG);
  EXPECT(weft_wg_go(wg, shutdown_in_task, NULL), 0);
  EXPECT(weft_wg_wait(wg), 0);
  EXPECT(c_shutdown_in_task_result, WEFT_EDEADLK);
  return 0;
}

static int c_sizes(const tcase *c) {
  (void)c;
  weft_chan_t *ch = (void *)1;
  EXPECT(weft_chan_make(SIZE_MAX, 2, &ch), WEFT_ENOMEM);
  EXPECT(ch == NULL, 1);
  EXPECT(weft_chan_make(2, SIZE_MAX, &ch), WEFT_ENOMEM);
  EXPECT(weft_chan_make(SIZE_MAX, SIZE_MAX, &ch), WEFT_ENOMEM);
  EXPECT(weft_chan_make((size_t)1 << 32, (size_t)1 << 32, &ch), WEFT_ENOMEM);
  EXPECT(weft_chan_make((size_t)1 << 31, 1, &ch), WEFT_ENOMEM);
  EXPECT(weft_chan_make(0, SIZE_MAX, &ch), WEFT_ENOMEM);
  EXPECT(weft_chan_make(8, 1, NULL), WEFT_EINVAL);
  weft_chan_opts opts = {.size = 0};
  EXPECT(weft_chan_make_opts(8, 1, &opts, &ch), WEFT_EINVAL);
  opts.size = sizeof opts;
  EXPECT(weft_chan_make_opts(SIZE_MAX, 3, &opts, &ch), WEFT_ENOMEM);
  EXPECT(weft_chan_make_opts(8, 1, NULL, &ch), 0);
  weft_future_t *f;
  EXPECT(weft_future_spawn(NULL, SIZE_MAX, future_ok, NULL, &f), WEFT_EINVAL);
  EXPECT(weft_future_spawn(NULL, (size_t)1 << 31, future_ok, NULL, &f), WEFT_EINVAL);
  EXPECT(weft_future_spawn(NULL, 8, NULL, NULL, &f), WEFT_EINVAL);
  EXPECT(weft_future_spawn(NULL, 8, future_ok, NULL, NULL), WEFT_EINVAL);
  weft_job jobs[2] = {{future_ok, NULL}, {future_ok, NULL}};
  int errs[2];
  char values[16];
  EXPECT(weft_collect(NULL, jobs, 2, SIZE_MAX, values, errs, 0) < 0, 1);
  EXPECT(weft_collect(NULL, jobs, 2, SIZE_MAX / 2 + 1, values, errs, 0) < 0, 1);
  EXPECT(weft_collect(NULL, jobs, SIZE_MAX, 8, values, errs, 0), WEFT_EINVAL);
  EXPECT(weft_collect(NULL, jobs, 2, 8, NULL, errs, 0), WEFT_EINVAL);
  EXPECT(weft_collect(NULL, jobs, 2, 8, values, NULL, 0), WEFT_EINVAL);
  EXPECT(weft_collect(NULL, NULL, 2, 8, values, errs, 0), WEFT_EINVAL);
  weft_job nulljob[1] = {{NULL, NULL}};
  EXPECT(weft_collect(NULL, nulljob, 1, 8, values, errs, 0), WEFT_EINVAL);
  EXPECT(weft_collect(NULL, jobs, 2, 8, values, errs, INT64_MIN), 2);
  EXPECT(weft_collect(NULL, jobs, 2, 8, values, errs, INT64_MAX), 2);
  EXPECT(weft_collect(NULL, jobs, 0, SIZE_MAX, NULL, NULL, 0), 0);
  weft_case cs[1] = {{0}};
  EXPECT(weft_select(cs, SIZE_MAX, 0, 0), WEFT_EINVAL);
  EXPECT(weft_select(cs, (size_t)1 << 21, 0, 0), WEFT_EINVAL);
  EXPECT(weft_select(NULL, 1, 0, 0), WEFT_EINVAL);
  EXPECT(weft_select(cs, 1, 0x100, 0), WEFT_EINVAL);
  EXPECT(weft_select_async(cs, SIZE_MAX, NULL, notify(), 1), WEFT_EINVAL);
  weft_chan_t *n0 = notify(); /* no case: valid, waits until canceled (by tag here) */
  EXPECT(weft_select_async(NULL, 0, NULL, n0, 1), 0);
  EXPECT(weft_async_cancel(n0, 1), 1);
  EXPECT(weft_async_poll(n0, (weft_completion *)buf, 0), WEFT_EINVAL);
  EXPECT(weft_async_poll(n0, NULL, 1), WEFT_EINVAL);
  EXPECT(weft_select_async(NULL, 1, NULL, notify(), 1), WEFT_EINVAL);
  return 0;
}

static int c_counts(const tcase *c) {
  (void)c;
  weft_sem_t *s;
  EXPECT(weft_sem_make(0, &s), WEFT_EINVAL);
  EXPECT(weft_sem_make(-1, &s), WEFT_EINVAL);
  EXPECT(weft_sem_make(INT64_MIN, &s), WEFT_EINVAL);
  EXPECT(weft_sem_make(1, NULL), WEFT_EINVAL);
  EXPECT(weft_sem_make(INT64_MAX, &s), 0);
  EXPECT(weft_sem_acquire(s, INT64_MAX), 0);
  EXPECT(weft_sem_try_acquire(s, 1), WEFT_EAGAIN);
  EXPECT(weft_sem_put(s, INT64_MAX), 0);
  EXPECT(weft_sem_put(s, 1), WEFT_ERANGE);
  EXPECT(weft_sem_put(s, -1), WEFT_EINVAL);
  EXPECT(weft_sem_put(s, INT64_MIN), WEFT_EINVAL);
  EXPECT(weft_sem_acquire(s, -1), WEFT_EINVAL);
  EXPECT(weft_sem_try_acquire(s, INT64_MIN), WEFT_EINVAL);
  weft_sem_t *small = make(K_SEM);
  EXPECT(weft_sem_acquire(small, 5), WEFT_EINVAL);
  EXPECT(weft_sem_acquire_until(small, 5, 0), WEFT_EINVAL);
  EXPECT(weft_sem_acquire_ctx(small, 5, NULL), WEFT_EINVAL);
  weft_wg_t *wg = make(K_WG);
  EXPECT(weft_wg_add(wg, INT64_MAX), WEFT_ERANGE);
  EXPECT(weft_wg_add(wg, INT64_MIN), WEFT_ERANGE);
  EXPECT(weft_wg_add(wg, (int64_t)1 << 32), WEFT_ERANGE);
  EXPECT(weft_wg_done(wg), WEFT_ERANGE);
  EXPECT(weft_wg_add(wg, INT32_MAX), 0);
  EXPECT(weft_wg_add(wg, 1), WEFT_ERANGE);
  EXPECT(weft_wg_add(wg, -(int64_t)INT32_MAX), 0);
  EXPECT(weft_wg_wait(wg), 0);
  weft_wg_t *w2;
  EXPECT(weft_wg_make(NULL), WEFT_EINVAL);
  EXPECT(weft_mutex_make(NULL), WEFT_EINVAL);
  EXPECT(weft_rwmutex_make(NULL), WEFT_EINVAL);
  EXPECT(weft_once_make(NULL), WEFT_EINVAL);
  EXPECT(weft_cond_make(make(K_MUTEX), NULL), WEFT_EINVAL);
  EXPECT(weft_wg_make(&w2), 0);
  EXPECT(weft_wg_go(w2, NULL, NULL), WEFT_EINVAL);
  weft_group_t *g;
  weft_ctx_t *gctx;
  EXPECT(weft_group_make(NULL, NULL, &gctx), WEFT_EINVAL);
  EXPECT(weft_group_make(NULL, &g, &gctx), 0);
  EXPECT(weft_group_set_limit(g, INT64_MIN), 0);
  EXPECT(weft_group_set_limit(g, INT64_MAX), 0);
  EXPECT(weft_group_go(g, NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_group_try_go(g, NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_group_set_limit(g, 0), 0);
  EXPECT(weft_group_go(g, group_ok, NULL), WEFT_EDEADLK);
  EXPECT(weft_group_try_go(g, group_ok, NULL), WEFT_EAGAIN);
  EXPECT(weft_group_wait(g), 0);
  return 0;
}

static int c_times_thread(const tcase *c) {
  (void)c;
  weft_mutex_t *mu = make(K_MUTEX);
  weft_cond_t *cv;
  CHECK_OK(weft_cond_make(mu, &cv));
  weft_chan_t *ch;
  CHECK_OK(weft_chan_make(8, 0, &ch));
  weft_case nulls[2] = {{NULL, WEFT_CASE_RECV, NULL, 0}, {NULL, WEFT_CASE_SEND, NULL, 0}};
  const int64_t past[] = {-1, INT64_MIN, 0, 1, -1000000000LL, INT64_MIN + 1};
  for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
    int64_t d = past[i];
    START();
    EXPECT(weft_mutex_lock(mu), 0);
    EXPECT(weft_cond_wait_until(cv, d), WEFT_ETIMEDOUT);
    EXPECT(weft_mutex_lock_until(mu, d), WEFT_ETIMEDOUT); /* held by us */
    EXPECT(weft_mutex_unlock(mu), 0);
    EXPECT(weft_select(nulls, 2, 0, d), WEFT_ETIMEDOUT);
    EXPECT(weft_select(NULL, 0, 0, d), WEFT_ETIMEDOUT);
    EXPECT(weft_chan_recv_until(ch, buf, d), WEFT_ETIMEDOUT);
    EXPECT(weft_chan_send_until(ch, &out64, d), WEFT_ETIMEDOUT);
    EXPECT(weft_sleep_until(d), 0);
    EXPECT(weft_sleep_ns(d), 0);
    PROMPT(500);
  }
  /* A deadline just ahead passes promptly too. */
  START();
  EXPECT(weft_cond_wait_until(cv, weft_now_ns() + 5 * MS), WEFT_EPERM);
  EXPECT(weft_mutex_lock(mu), 0);
  EXPECT(weft_cond_wait_until(cv, weft_now_ns() + 5 * MS), WEFT_ETIMEDOUT);
  EXPECT(weft_mutex_unlock(mu), 0);
  EXPECT(weft_select(nulls, 2, 0, weft_now_ns() + 5 * MS), WEFT_ETIMEDOUT);
  EXPECT(weft_select(NULL, 0, WEFT_SELECT_DEFAULT, INT64_MIN), WEFT_EAGAIN);
  EXPECT(weft_select(NULL, 0, 0, WEFT_NO_DEADLINE), WEFT_EDEADLK);
  PROMPT(500);
  return 0;
}

static volatile int task_times_result = -1;
static void times_in_task(void *arg) {
  (void)arg;
  task_times_result = c_times_thread(NULL);
}
static int c_times_task(const tcase *c) {
  (void)c;
  weft_wg_t *wg = make(K_WG);
  EXPECT(weft_wg_go(wg, times_in_task, NULL), 0);
  EXPECT(weft_wg_wait(wg), 0);
  EXPECT(task_times_result, 0);
  return 0;
}

static int c_times_sync(const tcase *c) {
  (void)c;
  const int64_t past[] = {-1, INT64_MIN, 0};
  for (size_t i = 0; i < 3; i++) {
    int64_t d = past[i];
    START();
    weft_wg_t *wg = make(K_WG);
    EXPECT(weft_wg_add(wg, 1), 0);
    EXPECT(weft_wg_wait_until(wg, d), WEFT_ETIMEDOUT);
    weft_rwmutex_t *rw = make(K_RWMUTEX);
    EXPECT(weft_rwmutex_lock(rw), 0);
    EXPECT(weft_rwmutex_rlock_until(rw, d), WEFT_ETIMEDOUT);
    EXPECT(weft_rwmutex_lock_until(rw, d), WEFT_ETIMEDOUT);
    EXPECT(weft_rwmutex_unlock(rw), 0);
    weft_sem_t *s = make(K_SEM);
    EXPECT(weft_sem_acquire(s, 4), 0);
    EXPECT(weft_sem_acquire_until(s, 1, d), WEFT_ETIMEDOUT);
    PROMPT(500);
  }
  return 0;
}

static int c_times_timers(const tcase *c) {
  (void)c;
  weft_chan_t *t;
  EXPECT(weft_after(INT64_MIN, &t), 0);
  START();
  EXPECT(weft_chan_recv(t, &out64), 0); /* fires at once */
  PROMPT(500);
  EXPECT(weft_after(-1, &t), 0);
  EXPECT(weft_after(INT64_MAX, &t), 0);
  EXPECT(weft_timer_stop(t), 1);
  EXPECT(weft_timer_stop(t), 0);
  EXPECT(weft_chan_release(t), 0);
  EXPECT(weft_after(MS, NULL), WEFT_EINVAL);
  EXPECT(weft_ticker_make(0, &t), WEFT_EINVAL);
  EXPECT(weft_ticker_make(-1, &t), WEFT_EINVAL);
  EXPECT(weft_ticker_make(INT64_MIN, &t), WEFT_EINVAL);
  EXPECT(weft_ticker_make(MS, NULL), WEFT_EINVAL);
  EXPECT(weft_ticker_make(INT64_MAX, &t), 0);
  EXPECT(weft_chan_try_recv(t, &out64), WEFT_EAGAIN);
  EXPECT(weft_timer_stop(t), 1);
  EXPECT(weft_ticker_make(INT64_MAX - 1, &t), 0);
  EXPECT(weft_timer_stop(t), 1);
  EXPECT(weft_timer_stop(make(K_CHAN)), WEFT_EINVAL);
  weft_ctx_t *x;
  EXPECT(weft_ctx_with_timeout(NULL, INT64_MAX, &x), 0);
  EXPECT(weft_ctx_err(x), 0);
  EXPECT(weft_ctx_deadline(x, &out64), 0); /* saturates to WEFT_NO_DEADLINE */
  EXPECT(weft_ctx_with_timeout(NULL, INT64_MAX - weft_now_ns() / 2, &x), 0);
  EXPECT(weft_ctx_deadline(x, &out64), 0);
  EXPECT(weft_ctx_with_timeout(NULL, INT64_MIN, &x), 0);
  EXPECT(weft_ctx_err(x), WEFT_ETIMEDOUT);
  EXPECT(weft_ctx_with_deadline(NULL, INT64_MIN, &x), 0);
  EXPECT(weft_ctx_err(x), WEFT_ETIMEDOUT);
  EXPECT(weft_ctx_wait(x), WEFT_ETIMEDOUT);
  EXPECT(weft_ctx_with_deadline(NULL, INT64_MAX, &x), 0);
  EXPECT(weft_ctx_deadline(x, NULL), 0);
  EXPECT(weft_ctx_with_timeout(NULL, MS, NULL), WEFT_EINVAL);
  EXPECT(weft_ctx_with_deadline(NULL, 0, NULL), WEFT_EINVAL);
  return 0;
}

static int c_misuse_locks(const tcase *c) {
  (void)c;
  weft_mutex_t *mu = make(K_MUTEX);
  EXPECT(weft_mutex_unlock(mu), WEFT_EPERM);
  EXPECT(weft_mutex_lock(mu), 0);
  EXPECT(weft_mutex_try_lock(mu), WEFT_EAGAIN);
  EXPECT(weft_mutex_unlock(mu), 0);
  EXPECT(weft_mutex_unlock(mu), WEFT_EPERM);
  weft_rwmutex_t *rw = make(K_RWMUTEX);
  EXPECT(weft_rwmutex_runlock(rw), WEFT_EPERM);
  EXPECT(weft_rwmutex_unlock(rw), WEFT_EPERM);
  EXPECT(weft_rwmutex_rlock(rw), 0);
  EXPECT(weft_rwmutex_try_lock(rw), WEFT_EAGAIN);
  EXPECT(weft_rwmutex_unlock(rw), WEFT_EPERM);
  EXPECT(weft_rwmutex_runlock(rw), 0);
  EXPECT(weft_rwmutex_try_rlock(rw), 0);
  EXPECT(weft_rwmutex_runlock(rw), 0);
  EXPECT(weft_rwmutex_rlock_ctx(rw, NULL), 0);
  EXPECT(weft_rwmutex_runlock(rw), 0);
  EXPECT(weft_rwmutex_lock_ctx(rw, NULL), 0);
  EXPECT(weft_rwmutex_unlock(rw), 0);
  weft_cond_t *cv = make(K_COND);
  EXPECT(weft_cond_wait(cv), WEFT_EPERM);
  EXPECT(weft_cond_wait_ctx(cv, NULL), WEFT_EPERM);
  EXPECT(weft_cond_signal(cv), 0);
  EXPECT(weft_cond_broadcast(cv), 0);
  weft_once_t *once = make(K_ONCE);
  EXPECT(weft_once_do(once, NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_once_do_ctx(once, NULL, NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_once_do(once, noop, NULL), 0);
  EXPECT(weft_once_do_ctx(once, noop, NULL, NULL), 0);
  return 0;
}

static int c_misuse_chan(const tcase *c) {
  (void)c;
  weft_chan_t *ch = make(K_CHAN);
  EXPECT(weft_chan_send(ch, NULL), WEFT_EINVAL);
  EXPECT(weft_chan_try_send(ch, NULL), WEFT_EINVAL);
  EXPECT(weft_chan_send_until(ch, NULL, 0), WEFT_EINVAL);
  EXPECT(weft_chan_send_ctx(ch, NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_chan_send_async(ch, NULL, NULL, notify(), 1), WEFT_EINVAL);
  EXPECT(weft_chan_close(ch), 0);
  EXPECT(weft_chan_close(ch), WEFT_ECLOSED);
  EXPECT(weft_chan_send(ch, &out64), WEFT_ECLOSED);
  EXPECT(weft_chan_recv(ch, NULL), WEFT_ECLOSED);
  EXPECT(weft_chan_retain(ch) == ch, 1);
  EXPECT(weft_chan_release(ch), 0);
  EXPECT(weft_chan_release(ch), 0);
  EXPECT(weft_chan_release(ch), WEFT_EINVAL);
  weft_chan_t *bad_notify;
  CHECK_OK(weft_chan_make(4, 4, &bad_notify));
  EXPECT(weft_chan_recv_async(make(K_CHAN), buf, NULL, bad_notify, 1), WEFT_EINVAL);
  EXPECT(weft_ctx_wait_async(make(K_CTX), bad_notify, 1), WEFT_EINVAL);
  EXPECT(weft_ctx_wait_async(NULL, notify(), 1), WEFT_EDEADLK);
  weft_case cs[1] = {{make(K_CHAN), 7, NULL, 0}};
  EXPECT(weft_select(cs, 1, WEFT_SELECT_DEFAULT, 0), WEFT_EINVAL);
  cs[0].op = WEFT_CASE_SEND;
  EXPECT(weft_select(cs, 1, WEFT_SELECT_DEFAULT, 0), WEFT_EINVAL);
  return 0;
}

static int c_misuse_ctx(const tcase *c) {
  (void)c;
  weft_ctx_t *bg = weft_ctx_background();
  EXPECT(bg != NULL, 1);
  EXPECT(weft_ctx_retain(bg) == bg, 1);
  for (int i = 0; i < 5; i++) EXPECT(weft_ctx_release(bg), 0); /* no-ops */
  EXPECT(weft_ctx_err(bg), 0);
  EXPECT(weft_ctx_err(NULL), 0);
  EXPECT(weft_ctx_cancel(bg), WEFT_EINVAL);
  EXPECT(weft_ctx_cancel(NULL), WEFT_EINVAL);
  EXPECT(weft_ctx_cancel_cause(NULL, 1), WEFT_EINVAL);
  EXPECT(weft_ctx_cause(NULL), 0);
  EXPECT(weft_ctx_wait(bg), WEFT_EDEADLK);
  EXPECT(weft_ctx_wait(NULL), WEFT_EDEADLK);
  EXPECT(weft_ctx_done(bg) == NULL, 1);
  EXPECT(weft_ctx_done(NULL) == NULL, 1);
  EXPECT(weft_ctx_deadline(NULL, &out64), 0);
  EXPECT(weft_ctx_value(NULL, buf) == NULL, 1);
  EXPECT(weft_ctx_retain(NULL) == NULL, 1);
  EXPECT(weft_ctx_release(NULL), WEFT_EINVAL);
  weft_ctx_t *x = make(K_CTX), *v, *nc;
  EXPECT(weft_ctx_with_value(x, NULL, buf, NULL, &v), WEFT_EINVAL);
  EXPECT(weft_ctx_with_value(x, buf, buf, NULL, &v), 0);
  EXPECT(weft_ctx_cancel(v), WEFT_EINVAL);
  EXPECT(weft_ctx_without_cancel(x, &nc), 0);
  EXPECT(weft_ctx_wait(nc), WEFT_EDEADLK);
  EXPECT(weft_ctx_value(x, NULL) == NULL, 1);
  /* Borrowed done channel: over-release refused, a retain keeps it. */
  weft_chan_t *done = weft_ctx_done(x);
  EXPECT(done != NULL, 1);
  EXPECT(weft_chan_release(done), WEFT_EINVAL);
  EXPECT(weft_chan_retain(done) == done, 1);
  EXPECT(weft_chan_release(done), 0);
  EXPECT(weft_chan_release(done), WEFT_EINVAL);
  EXPECT(weft_chan_retain(done) == done, 1);
  EXPECT(weft_ctx_cancel(x), 0);
  EXPECT(weft_ctx_cancel(x), 0);
  EXPECT(weft_ctx_release(x), 0);
  EXPECT(weft_chan_recv(done, NULL), WEFT_ECLOSED); /* kept by the retain */
  EXPECT(weft_chan_release(done), 0);
  EXPECT(weft_chan_recv(done, NULL), WEFT_EINVAL);
  EXPECT(weft_ctx_release(x), WEFT_EINVAL);
  EXPECT(weft_ctx_after_func(make(K_CTX), NULL, NULL, NULL), WEFT_EINVAL);
  weft_ctx_t *sig;
  EXPECT(weft_ctx_with_signals(NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_ctx_with_signals(NULL, &sig), 0);
  EXPECT(weft_ctx_release(sig), 0);
  EXPECT(weft_ctx_with_cancel(NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_ctx_without_cancel(NULL, NULL), WEFT_EINVAL);
  return 0;
}

static int c_misuse_after_func(const tcase *c) {
  (void)c;
  weft_ctx_t *x = make(K_CTX);
  weft_after_func_t *af;
  EXPECT(weft_ctx_after_func(x, noop, NULL, &af), 0);
  EXPECT(weft_after_func_stop(af), 1);
  EXPECT(weft_after_func_stop(af), WEFT_EINVAL); /* consumed by the first */
  EXPECT(weft_after_func_release(af), WEFT_EINVAL);
  EXPECT(weft_ctx_after_func(x, noop, NULL, &af), 0);
  EXPECT(weft_ctx_cancel(x), 0);
  weft_sleep_ns(10 * MS);
  EXPECT(weft_after_func_stop(af), 0); /* already started */
  EXPECT(weft_after_func_release(af), WEFT_EINVAL);
  EXPECT(weft_ctx_after_func(x, noop, NULL, &af), 0);
  EXPECT(weft_after_func_release(af), 0);
  EXPECT(weft_after_func_release(af), WEFT_EINVAL);
  EXPECT(weft_after_func_stop(af), WEFT_EINVAL);
  EXPECT(weft_after_func_stop((weft_after_func_t *)make(K_CTX)), WEFT_EINVAL);
  return 0;
}

static int c_misuse_group(const tcase *c) {
  (void)c;
  weft_group_t *g;
  weft_ctx_t *gctx;
  EXPECT(weft_group_make(NULL, &g, &gctx), 0);
  EXPECT(weft_ctx_release(gctx), WEFT_EINVAL); /* borrowed */
  EXPECT(weft_ctx_err(gctx), 0);
  EXPECT(weft_ctx_retain(gctx) == gctx, 1);
  EXPECT(weft_group_go(g, group_ok, NULL), 0);
  EXPECT(weft_group_wait(g), 0);
  EXPECT(weft_ctx_err(gctx), WEFT_ECANCELED);
  EXPECT(weft_group_release(g), 0);
  EXPECT(weft_group_release(g), WEFT_EINVAL);
  EXPECT(weft_ctx_err(gctx), WEFT_ECANCELED); /* our retain keeps it */
  EXPECT(weft_ctx_release(gctx), 0);
  EXPECT(weft_ctx_err(gctx), WEFT_EINVAL);
  weft_future_t *f = make(K_FUTURE);
  EXPECT(weft_future_await(f, NULL, buf), 0);
  EXPECT(weft_future_ready(f), 1);
  EXPECT(weft_future_await(f, NULL, NULL), 0);
  EXPECT(weft_future_release(f), 0);
  EXPECT(weft_future_ready(f), WEFT_EINVAL);
  return 0;
}

static int c_misc(const tcase *c) {
  (void)c;
  EXPECT(weft_go(NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_go_opts(NULL, NULL, NULL), WEFT_EINVAL);
  weft_task_opts o;
  weft_task_opts_init(&o);
  weft_task_opts_init(NULL);
  o.size = 0;
  EXPECT(weft_go_opts(noop, NULL, &o), WEFT_EINVAL);
  weft_task_opts_init(&o);
  o.stack_size = SIZE_MAX;
  EXPECT(weft_go_opts(noop, NULL, &o), WEFT_EINVAL);
  o.stack_size = 1;
  EXPECT(weft_go_opts(noop, NULL, &o), WEFT_EINVAL);
  weft_task_opts_init(&o);
  char longname[200];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  o.name = longname;
  EXPECT(weft_go_opts(noop, NULL, &o), 0);
  EXPECT(weft_yield(), 0);
  EXPECT(weft_in_task(), 0);
  EXPECT(weft_task_id(), 0);
  EXPECT(weft_stats_get(NULL), WEFT_EINVAL);
  weft_stats st = {.size = 0};
  EXPECT(weft_stats_get(&st), WEFT_EINVAL);
  st.size = sizeof st;
  EXPECT(weft_stats_get(&st), 0);
  EXPECT(weft_dump_tasks(-1), WEFT_EINVAL);
  EXPECT(weft_dump_tasks(INT_MIN), WEFT_EINVAL);
  EXPECT(weft_dump_tasks(9999), 0); /* a closed fd: the write fails quietly */
  EXPECT(strcmp(weft_strerror(INT_MIN), "unknown error"), 0);
  EXPECT(strcmp(weft_strerror(INT_MAX), "unknown error"), 0);
  EXPECT(strcmp(weft_strerror(0), "success"), 0);
  EXPECT(strcmp(weft_err_name(WEFT_EINVAL), "WEFT_EINVAL"), 0);
  EXPECT(weft_err_name(INT_MIN) != NULL, 1);
  EXPECT(weft_version() >> 16, WEFT_VERSION_MAJOR);
  EXPECT(weft_version_string() != NULL, 1);
  EXPECT(weft_now_ns() > 0, 1);
  return 0;
}

/* I/O: bad fds, events, ports, paths, buffers, lengths; past deadlines. */
static int c_io(const tcase *c) {
  (void)c;
  EXPECT(weft_fd_wait(-1, WEFT_FD_READABLE), WEFT_EBADF);
  EXPECT(weft_fd_wait(INT_MAX, WEFT_FD_READABLE), WEFT_EBADF);
  EXPECT(weft_fd_wait(0, 0), WEFT_EINVAL);
  EXPECT(weft_fd_wait(0, -1), WEFT_EINVAL);
  EXPECT(weft_fd_wait_until(-1, WEFT_FD_READABLE, 0), WEFT_EBADF);
  int p[2];
  EXPECT(pipe(p), 0);
  START();
  EXPECT(weft_fd_wait_until(p[0], WEFT_FD_READABLE, weft_now_ns() - MS), WEFT_ETIMEDOUT);
  EXPECT(weft_fd_wait_until(p[0], WEFT_FD_READABLE, INT64_MIN), WEFT_ETIMEDOUT);
  PROMPT(100);
  EXPECT(weft_fd_close(p[0]), 0);
  EXPECT(weft_fd_close(p[0]), WEFT_EBADF);
  EXPECT(weft_fd_forget(p[1]), 0);
  EXPECT(weft_fd_forget(-1), WEFT_EBADF);
  EXPECT(weft_offload(NULL, NULL), WEFT_EINVAL);
  EXPECT(weft_offload_until(NULL, NULL, 0), WEFT_EINVAL);
  EXPECT(weft_offload_until(noop, NULL, INT64_MIN), WEFT_ETIMEDOUT);
  weft_sock_t *s;
  EXPECT(weft_tcp_listen("127.0.0.1", -1, 0, &s), WEFT_EINVAL);
  EXPECT(weft_tcp_listen("127.0.0.1", 65536, 0, &s), WEFT_EINVAL);
  EXPECT(weft_tcp_listen("not an address!", 0, 0, &s), WEFT_ENAMENOTFOUND);
  EXPECT(weft_tcp_listen(NULL, 0, 0, NULL), WEFT_EINVAL);
  EXPECT(weft_unix_listen(NULL, 0, &s), WEFT_EINVAL);
  EXPECT(weft_unix_listen("", 0, &s), WEFT_EINVAL);
  EXPECT(weft_tcp_connect("127.0.0.1", 0, &s), WEFT_EINVAL);
  EXPECT(weft_tcp_connect("127.0.0.1", 80, NULL), WEFT_EINVAL);
  EXPECT(weft_tcp_connect_until("127.0.0.1", 9, INT64_MIN, &s) < 0, 1);
  EXPECT(weft_unix_connect(NULL, &s), WEFT_EINVAL);
  EXPECT(weft_unix_connect_until("/nonexistent/x", INT64_MIN, &s), WEFT_ENOENT);
  weft_sock_t *l;
  EXPECT(weft_tcp_listen("127.0.0.1", 0, 0, &l), 0);
  EXPECT(weft_tcp_connect("127.0.0.1", weft_sock_local_port(l), &s), 0);
  EXPECT(weft_sock_read(s, NULL, 1), WEFT_EINVAL);
  EXPECT(weft_sock_read(s, buf, SIZE_MAX), WEFT_EINVAL);
  EXPECT(weft_sock_write(s, NULL, 1), WEFT_EINVAL);
  EXPECT(weft_sock_write(s, buf, SIZE_MAX), WEFT_EINVAL);
  EXPECT(weft_sock_read_full(s, buf, SIZE_MAX), WEFT_EINVAL);
  EXPECT(weft_sock_read_until(s, buf, 1, INT64_MIN), WEFT_ETIMEDOUT);
  EXPECT(weft_sock_local_addr(s, NULL, 8), WEFT_EINVAL);
  EXPECT(weft_sock_local_addr(s, buf, 1), WEFT_ERANGE);
  EXPECT(weft_sock_accept(l, NULL), WEFT_EINVAL);
  EXPECT(weft_sock_close(s), 0);
  EXPECT(weft_sock_close(l), 0);
  return 0;
}

/* ------------------------------------------------------------ runner */

static const struct { const char *name, *covers; int (*run)(const tcase *); } explicit_cases[] = {
    {"init: size below the first version's", "weft_init weft_config_init", c_init_small},
    {"init: bad fields", "weft_init weft_config_init", c_init_bad_fields},
    {"shutdown: grace INT64_MAX", "weft_shutdown weft_init weft_go", c_shutdown_grace_max},
    {"shutdown: calls after it", "weft_shutdown weft_init weft_go weft_wg_go weft_after weft_stats_get", c_after_shutdown},
    {"shutdown: calls during it", "weft_shutdown weft_go weft_chan_recv_until", c_during_shutdown},
    {"shutdown: from a task", "weft_shutdown", c_shutdown_in_task},
    {"sizes: absurd", "weft_chan_make weft_chan_make_opts weft_future_spawn weft_collect weft_select weft_select_async weft_async_cancel weft_async_poll", c_sizes},
    {"counts: absurd", "weft_sem_make weft_wg_add weft_wg_make weft_mutex_make weft_rwmutex_make weft_once_make weft_cond_make weft_group_make weft_group_set_limit", c_counts},
    {"times: past deadlines on a thread", "weft_cond_wait_until weft_select weft_sleep_until weft_sleep_ns weft_chan_recv_until", c_times_thread},
    {"times: past deadlines in a task", "weft_cond_wait_until weft_select", c_times_task},
    {"times: past deadlines, sync", "weft_wg_wait_until weft_rwmutex_rlock_until weft_rwmutex_lock_until weft_sem_acquire_until", c_times_sync},
    {"times: timers and contexts", "weft_after weft_ticker_make weft_timer_stop weft_ctx_with_timeout weft_ctx_with_deadline", c_times_timers},
    {"misuse: locks", "weft_mutex_unlock weft_rwmutex_runlock weft_cond_wait weft_once_do", c_misuse_locks},
    {"misuse: channels", "weft_chan_send weft_chan_close weft_chan_recv_async weft_ctx_wait_async", c_misuse_chan},
    {"misuse: contexts", "weft_ctx_background weft_ctx_retain weft_ctx_release weft_ctx_done weft_ctx_with_signals", c_misuse_ctx},
    {"misuse: after_func", "weft_ctx_after_func weft_after_func_stop weft_after_func_release", c_misuse_after_func},
    {"misuse: group and future", "weft_group_make weft_group_wait weft_future_await weft_future_ready", c_misuse_group},
    {"io: fds, sockets, offload", "weft_fd_wait weft_fd_wait_until weft_fd_close weft_fd_forget weft_offload weft_offload_until weft_tcp_listen weft_unix_listen weft_tcp_connect weft_tcp_connect_until weft_unix_connect weft_unix_connect_until", c_io},
    {"misc", "weft_go weft_go_opts weft_task_opts_init weft_yield weft_in_task weft_task_id weft_stats_get weft_dump_tasks weft_strerror weft_err_name weft_version weft_version_string weft_now_ns", c_misc},
};
#define NEXPLICIT ((int)(sizeof explicit_cases / sizeof explicit_cases[0]))

static tcase cases[2048];
static int ncases;

static void build_cases(void) {
  for (int i = 0; i < NCALLS; i++) {
    for (int v = 0; v < V_COUNT; v++) {
      if (call_kinds[i] == K_CTX && v == V_NULL) continue; /* NULL is background */
      /* A case with a NULL channel is never ready (documented), not bad input. */
      if (v == V_NULL && strncmp(call_names[i], "weft_select", 11) == 0) continue;
      tcase *c = &cases[ncases++];
      snprintf(c->name, sizeof c->name, "%s(%s %s)", call_names[i], variant_names[v], kind_names[call_kinds[i]]);
      c->covers = call_names[i];
      c->run = handle_case;
      c->kind = call_kinds[i];
      c->variant = v;
      c->call = i;
    }
  }
  for (int i = 0; i < NEXPLICIT; i++) {
    tcase *c = &cases[ncases++];
    snprintf(c->name, sizeof c->name, "%s", explicit_cases[i].name);
    c->covers = explicit_cases[i].covers;
    c->run = explicit_cases[i].run;
  }
}

/* Runs one case in a child; returns 0 on pass, printing why not otherwise. */
static int run_case(const tcase *c) {
  fflush(stdout);
  fflush(stderr);
  int pipefd[2];
  if (pipe(pipefd) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    dup2(pipefd[1], 2);
    alarm(CASE_LIMIT_S);
    int rc = c->run(c);
    fflush(stderr);
    _exit(rc == 0 ? 0 : 1);
  }
  close(pipefd[1]);
  char msg[2048];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof msg - 1 && (n = read(pipefd[0], msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)n;
  msg[len] = 0;
  close(pipefd[0]);
  int status;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
    printf("FAIL %s: hung (over %d s)\n", c->name, CASE_LIMIT_S);
  else if (WIFSIGNALED(status))
    printf("FAIL %s: killed by signal %d (%s)\n", c->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    printf("FAIL %s: exit %d\n", c->name, WEXITSTATUS(status));
  if (len) printf("     %s", msg);
  return 1;
}

/* name as a whole space-separated word of list; NULL if absent. */
static const char *c_strstr_word(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return p;
  return NULL;
}

/* Every function weft.h declares must be covered by some case. */
static int check_coverage(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s", __FILE__);
  char *slash = strrchr(path, '/');
  if (!slash) return FAILF("cannot locate weft.h from %s\n", __FILE__);
  snprintf(slash, sizeof path - (size_t)(slash - path), "/../../include/weft.h");
  FILE *f = fopen(path, "r");
  if (!f) return FAILF("cannot open %s\n", path);
  char line[512];
  int declared = 0, missing = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == ' ' || line[0] == '#' || line[0] == '/' || line[0] == '*' || line[0] == '}' ||
        strncmp(line, "typedef", 7) == 0 || strncmp(line, "struct", 6) == 0)
      continue;
    /* "int weft_x(" or "weft_chan_t *weft_chan_retain(": the name before "(". */
    char name[128];
    int got = 0;
    for (const char *p = line; (p = strstr(p, "weft_")) != NULL && !got; p += 5) {
      size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
      if (p[k] == '(' && k < sizeof name) {
        memcpy(name, p, k);
        name[k] = 0;
        got = 1;
      }
    }
    if (!got) continue;
    declared++;
    int found = 0;
    for (int i = 0; i < ncases && !found; i++) {
      const char *s = c_strstr_word(cases[i].covers, name);
      found = s != NULL;
    }
    if (!found) {
      printf("FAIL coverage: %s is declared in weft.h but no case calls it\n", name);
      missing++;
    }
  }
  fclose(f);
  printf("coverage: %d functions declared, %d not covered\n", declared, missing);
  return declared < 100 || missing > 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *filter = argc > 1 ? argv[1] : NULL;
  build_cases();
  int run = 0, failed = 0;
  for (int i = 0; i < ncases; i++) {
    if (filter && !strstr(cases[i].name, filter)) continue;
    run++;
    failed += run_case(&cases[i]);
  }
  int uncovered = filter ? 0 : check_coverage();
  printf("bad-input table: %d cases, %d failed\n", run, failed);
  return failed || uncovered ? 1 : 0;
}
