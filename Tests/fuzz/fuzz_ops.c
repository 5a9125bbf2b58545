/* An op-sequence fuzzer for the C API: the input bytes are a small concurrent
 * program (channels, select, mutex, semaphore, WaitGroup, contexts) run by
 * several tasks and plain threads at once. After it ran, the invariants:
 *   - exactly once / no loss / no invention: every value whose send returned 0
 *     was received exactly once, on the channel it was sent to; a value whose send
 *     failed was never received;
 *   - mutual exclusion: never two holders of the mutex; the semaphore never
 *     hands out more units than it has;
 *   - capacity: 0 <= weft_chan_len <= capacity at every look;
 *   - return codes: each call returns one of the codes its header line allows;
 *     exactly one close of a channel succeeds;
 *   - nothing left behind: after the input, no live task and no pending timer
 *     (the runtime is one per process and serves every input).
 * A violation prints what broke and aborts (libFuzzer then saves the input).
 *
 * Input: byte 0 = actors (bits 0-1: 1-4 tasks; bits 2-3: 0-2 plain threads),
 * byte 1 = channel capacities (2 bits each), byte 2 = semaphore capacity (1-4),
 * then one byte per operation, dealt to the actors in turn (at most 256 ops). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define NCHAN 3
#define MAX_ACTORS 6
#define MAX_OPS 256
#define MAX_VALUES (MAX_OPS * 2)

typedef struct world {
  weft_chan_t *ch[NCHAN];
  int64_t cap[NCHAN];
  weft_mutex_t *mu;
  atomic_int in_mutex;
  long guarded; /* only touched while holding mu */
  long guarded_expected;
  weft_sem_t *sem;
  int64_t sem_cap;
  atomic_llong sem_held;
  weft_wg_t *wg;
  weft_ctx_t *ctx; /* canceled by an op, or times out */
  atomic_int close_ok[NCHAN];
  atomic_int value_next;
  atomic_uchar sent_ok[MAX_VALUES];
  atomic_uchar sent_chan[MAX_VALUES];
  atomic_uchar received[MAX_VALUES];
  atomic_uchar received_chan[MAX_VALUES];
  atomic_long mutex_ok; /* successful lock/unlock pairs */
} world;

typedef struct actor {
  world *w;
  const uint8_t *ops;
  int nops;
} actor;

#define FAIL(...)                                   \
  do {                                              \
    fprintf(stderr, "fuzz: invariant broken: ");    \
    fprintf(stderr, __VA_ARGS__);                   \
    fprintf(stderr, " (%s:%d)\n", __FILE__, __LINE__); \
    abort();                                        \
  } while (0)

static void expect_rc(int rc, const char *call, int a, int b, int c, int d) {
  if (rc != a && rc != b && rc != c && rc != d) FAIL("%s returned %d (%s)", call, rc, weft_err_name(rc));
}

static int64_t soon(uint8_t b) { return weft_now_ns() + 50000 + (int64_t)(b & 7) * 150000; }

static void check_len(world *w, int c) {
  int64_t n = weft_chan_len(w->ch[c]);
  if (n < 0 || n > w->cap[c]) FAIL("channel %d holds %lld values, capacity %lld", c, (long long)n, (long long)w->cap[c]);
}

static int64_t new_value(world *w, int c) {
  int v = atomic_fetch_add(&w->value_next, 1);
  if (v >= MAX_VALUES) FAIL("value space exhausted");
  atomic_store(&w->sent_chan[v], (unsigned char)c);
  return v;
}

static void got_value(world *w, int c, int64_t v) {
  if (v < 0 || v >= atomic_load(&w->value_next)) FAIL("received a value never sent: %lld", (long long)v);
  if (atomic_fetch_add(&w->received[v], 1) != 0) FAIL("value %lld received twice", (long long)v);
  atomic_store(&w->received_chan[v], (unsigned char)c);
}

static void sent(world *w, int64_t v) { atomic_store(&w->sent_ok[v], 1); }

static void run_op(world *w, uint8_t b, uint8_t arg) {
  int c = (b >> 4) % NCHAN;
  int64_t v;
  int rc;
  switch (b & 15) {
  case 0:
  case 1: /* send with a deadline */
    v = new_value(w, c);
    rc = weft_chan_send_until(w->ch[c], &v, soon(arg));
    expect_rc(rc, "send_until", 0, WEFT_ETIMEDOUT, WEFT_ECLOSED, 0);
    if (rc == 0) sent(w, v);
    break;
  case 2:
  case 3: /* receive with a deadline */
    rc = weft_chan_recv_until(w->ch[c], &v, soon(arg));
    expect_rc(rc, "recv_until", 0, WEFT_ETIMEDOUT, WEFT_ECLOSED, 0);
    if (rc == 0) got_value(w, c, v);
    break;
  case 4: /* try forms */
    if (arg & 1) {
      v = new_value(w, c);
      rc = weft_chan_try_send(w->ch[c], &v);
      expect_rc(rc, "try_send", 0, WEFT_EAGAIN, WEFT_ECLOSED, 0);
      if (rc == 0) sent(w, v);
    } else {
      rc = weft_chan_try_recv(w->ch[c], &v);
      expect_rc(rc, "try_recv", 0, WEFT_EAGAIN, WEFT_ECLOSED, 0);
      if (rc == 0) got_value(w, c, v);
    }
    break;
  case 5:
  case 6: { /* select: receive on c, send on d (maybe the same channel), maybe default */
    int d = (c + (arg >> 6)) % NCHAN;
    int64_t in = -1, out = new_value(w, d);
    weft_case cases[2] = {
        {.chan = w->ch[c], .op = WEFT_CASE_RECV, .elem = &in},
        {.chan = w->ch[d], .op = WEFT_CASE_SEND, .elem = &out},
    };
    int flags = (arg & 8) ? WEFT_SELECT_DEFAULT : 0;
    rc = weft_select(cases, 2, flags, soon(arg));
    expect_rc(rc, "select", 0, 1, WEFT_ETIMEDOUT, WEFT_EAGAIN);
    if (flags == 0 && rc == WEFT_EAGAIN) FAIL("select without default returned EAGAIN");
    if (rc == 0) {
      expect_rc(cases[0].result, "select recv case", 0, WEFT_ECLOSED, 0, 0);
      if (cases[0].result == 0) got_value(w, c, in);
    } else if (rc == 1) {
      expect_rc(cases[1].result, "select send case", 0, WEFT_ECLOSED, 0, 0);
      if (cases[1].result == 0) sent(w, out);
    }
    break;
  }
  case 7: { /* receive with the shared context (canceled by op 13 or its timeout) */
    rc = weft_chan_recv_ctx(w->ch[c], &v, w->ctx);
    expect_rc(rc, "recv_ctx", 0, WEFT_ECLOSED, WEFT_ECANCELED, WEFT_ETIMEDOUT);
    if (rc == 0) got_value(w, c, v);
    break;
  }
  case 8:
  case 9: /* the mutex */
    rc = (arg & 1) ? weft_mutex_lock_until(w->mu, soon(arg)) : weft_mutex_try_lock(w->mu);
    expect_rc(rc, "mutex lock", 0, WEFT_ETIMEDOUT, WEFT_EAGAIN, 0);
    if (rc == 0) {
      if (atomic_fetch_add(&w->in_mutex, 1) != 0) FAIL("two holders of the mutex");
      w->guarded++;
      if (arg & 2) weft_yield();
      atomic_fetch_sub(&w->in_mutex, 1);
      atomic_fetch_add(&w->mutex_ok, 1);
      rc = weft_mutex_unlock(w->mu);
      expect_rc(rc, "mutex unlock", 0, 0, 0, 0);
    }
    break;
  case 10: { /* the semaphore */
    int64_t n = 1 + (arg & 1);
    if (n > w->sem_cap) n = w->sem_cap;
    rc = weft_sem_acquire_until(w->sem, n, soon(arg));
    expect_rc(rc, "sem acquire", 0, WEFT_ETIMEDOUT, 0, 0);
    if (rc == 0) {
      long long held = atomic_fetch_add(&w->sem_held, n) + n;
      if (held > w->sem_cap) FAIL("semaphore of %lld units has %lld out", (long long)w->sem_cap, held);
      if (arg & 2) weft_yield();
      atomic_fetch_sub(&w->sem_held, n);
      expect_rc(weft_sem_put(w->sem, n), "sem put", 0, 0, 0, 0);
    }
    expect_rc(weft_sem_put(w->sem, w->sem_cap + 1), "sem over-put", WEFT_ERANGE, 0 - 1000, 0 - 1000, 0 - 1000);
    break;
  }
  case 11: /* the WaitGroup: add/done pairs, a short wait, a bad add */
    expect_rc(weft_wg_add(w->wg, 1), "wg add", 0, 0, 0, 0);
    rc = weft_wg_wait_until(w->wg, soon(arg));
    expect_rc(rc, "wg wait_until", WEFT_ETIMEDOUT, 0, 0, 0);
    expect_rc(weft_wg_done(w->wg), "wg done", 0, 0, 0, 0);
    break;
  case 12: { /* a context of its own: timeout, or canceled at once */
    weft_ctx_t *ctx = NULL;
    rc = (arg & 1) ? weft_ctx_with_timeout(w->ctx, 50000 + (arg & 7) * 100000, &ctx)
                   : weft_ctx_with_cancel(w->ctx, &ctx);
    expect_rc(rc, "ctx make", 0, 0, 0, 0);
    if (!(arg & 1)) weft_ctx_cancel(ctx);
    if (arg & 2) {
      v = new_value(w, c);
      rc = weft_chan_send_ctx(w->ch[c], &v, ctx);
      expect_rc(rc, "send_ctx", 0, WEFT_ECLOSED, WEFT_ECANCELED, WEFT_ETIMEDOUT);
      if (rc == 0) sent(w, v);
    } else {
      rc = weft_sem_acquire_ctx(w->sem, 1, ctx);
      expect_rc(rc, "sem acquire_ctx", 0, WEFT_ECANCELED, WEFT_ETIMEDOUT, 0);
      if (rc == 0) {
        if (atomic_fetch_add(&w->sem_held, 1) + 1 > w->sem_cap) FAIL("semaphore over-subscribed");
        atomic_fetch_sub(&w->sem_held, 1);
        weft_sem_put(w->sem, 1);
      }
    }
    int err = weft_ctx_err(ctx);
    expect_rc(err, "ctx err", 0, WEFT_ECANCELED, WEFT_ETIMEDOUT, 0);
    /* Canceled by us: canceled, unless the parent ended first (its error wins). */
    if (!(arg & 1) && err == 0) FAIL("a canceled context reports no error");
    expect_rc(weft_ctx_release(ctx), "ctx release", 0, 0, 0, 0);
    break;
  }
  case 13:
    expect_rc(weft_ctx_cancel(w->ctx), "ctx cancel", 0, 0, 0, 0);
    break;
  case 14: /* close: rare, so values flow first */
    if ((arg & 7) != 0) { weft_yield(); break; }
    rc = weft_chan_close(w->ch[c]);
    expect_rc(rc, "close", 0, WEFT_ECLOSED, 0, 0);
    if (rc == 0 && atomic_fetch_add(&w->close_ok[c], 1) != 0) FAIL("channel %d closed twice", c);
    break;
  default:
    if (arg & 1) weft_sleep_ns((arg & 3) * 20000);
    else weft_yield();
    break;
  }
  check_len(w, c);
}

static void actor_run(actor *a) {
  for (int i = 0; i < a->nops; i++) run_op(a->w, a->ops[i], a->ops[(i + 1) % a->nops]);
}

static void task_main(void *arg) { actor_run(arg); }

static void *thread_main(void *arg) {
  actor_run(arg);
  return NULL;
}

static void wait_for_quiet(void) {
  weft_stats s;
  int64_t until = weft_now_ns() + 3000000000LL;
  for (;;) {
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    if (weft_stats_get(&s) != 0) FAIL("weft_stats_get failed");
    if (s.tasks_live == 0 && s.timers_pending == 0) return;
    if (weft_now_ns() > until)
      FAIL("input left %llu live tasks, %llu pending timers", (unsigned long long)s.tasks_live,
           (unsigned long long)s.timers_pending);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzzers end with exit() after the last input: stop the runtime first, so
 * its workers are not running while the libraries' destructors free memory
 * (seen as heap corruption at the time limit). */
static void shutdown_at_exit(void) { weft_shutdown(); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int started;
  if (!started) {
    weft_config cfg;
    weft_config_init(&cfg);
    cfg.workers = 2;
    int rc = weft_init(&cfg);
    if (rc != 0 && rc != WEFT_EBUSY) FAIL("weft_init: %d", rc);
    atexit(shutdown_at_exit);
    started = 1;
  }
  if (size < 3) return 0;
  static world w; /* big: the value tables */
  memset(&w, 0, sizeof w);
  int ntasks = 1 + (data[0] & 3);
  int nthreads = ((data[0] >> 2) & 3) % 3;
  int nactors = ntasks + nthreads;
  const uint8_t *ops = data + 3;
  size_t nops = size - 3;
  if (nops > MAX_OPS) nops = MAX_OPS;

  for (int c = 0; c < NCHAN; c++) {
    w.cap[c] = (data[1] >> (2 * c)) & 3;
    if (weft_chan_make(sizeof(int64_t), (size_t)w.cap[c], &w.ch[c]) != 0) FAIL("chan make");
  }
  w.sem_cap = 1 + (data[2] & 3);
  weft_ctx_t *parent = NULL;
  if (weft_mutex_make(&w.mu) || weft_sem_make(w.sem_cap, &w.sem) || weft_wg_make(&w.wg) ||
      weft_ctx_with_timeout(weft_ctx_background(), 5000000, &parent) ||
      weft_ctx_with_cancel(parent, &w.ctx))
    FAIL("make");

  /* Deal the ops: actor k gets ops k, k + nactors, ... */
  static uint8_t dealt[MAX_ACTORS][MAX_OPS];
  actor actors[MAX_ACTORS];
  for (int k = 0; k < nactors; k++) {
    actors[k] = (actor){.w = &w, .ops = dealt[k], .nops = 0};
    for (size_t i = (size_t)k; i < nops; i += (size_t)nactors) dealt[k][actors[k].nops++] = ops[i];
  }
  weft_wg_t *done = NULL;
  if (weft_wg_make(&done)) FAIL("wg make");
  for (int k = 0; k < ntasks; k++)
    if (actors[k].nops > 0 && weft_wg_go(done, task_main, &actors[k]) != 0) FAIL("wg_go");
  pthread_t threads[MAX_ACTORS];
  for (int k = ntasks; k < nactors; k++)
    if (pthread_create(&threads[k], NULL, thread_main, &actors[k]) != 0) FAIL("pthread_create");
  for (int k = ntasks; k < nactors; k++) pthread_join(threads[k], NULL);
  if (weft_wg_wait(done) != 0) FAIL("wg wait");
  weft_wg_release(done);

  /* Drain what is still buffered: nobody else runs now. */
  for (int c = 0; c < NCHAN; c++) {
    int64_t v;
    int rc;
    while ((rc = weft_chan_try_recv(w.ch[c], &v)) == 0) got_value(&w, c, v);
    expect_rc(rc, "drain", WEFT_EAGAIN, WEFT_ECLOSED, 0 - 1000, 0 - 1000);
    if (weft_chan_len(w.ch[c]) != 0) FAIL("channel %d not empty after draining", c);
  }
  int n = atomic_load(&w.value_next);
  for (int v = 0; v < n; v++) {
    int ok = atomic_load(&w.sent_ok[v]), got = atomic_load(&w.received[v]);
    if (ok && got != 1) FAIL("value %d sent but received %d times (lost)", v, got);
    if (!ok && got != 0) FAIL("value %d whose send failed was received", v);
    if (got && atomic_load(&w.received_chan[v]) != atomic_load(&w.sent_chan[v]))
      FAIL("value %d sent on channel %d arrived on %d", v, w.sent_chan[v], w.received_chan[v]);
  }
  if (atomic_load(&w.in_mutex) != 0 || w.guarded != atomic_load(&w.mutex_ok)) FAIL("mutex counter");
  if (weft_mutex_try_lock(w.mu) != 0) FAIL("mutex left locked");
  weft_mutex_unlock(w.mu);
  if (weft_sem_try_acquire(w.sem, w.sem_cap) != 0) FAIL("semaphore units lost");
  weft_sem_put(w.sem, w.sem_cap);
  if (weft_wg_wait_until(w.wg, weft_now_ns()) != 0) FAIL("WaitGroup counter left above zero");

  for (int c = 0; c < NCHAN; c++) weft_chan_release(w.ch[c]);
  weft_mutex_release(w.mu);
  weft_sem_release(w.sem);
  weft_wg_release(w.wg);
  weft_ctx_release(w.ctx);
  weft_ctx_release(parent);
  wait_for_quiet();
  return 0;
}
