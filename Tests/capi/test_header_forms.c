/* The 0.2 forms: user results through an out-parameter (a user's -110 is not
 * a timeout), deadline and context forms of group wait, future await and once,
 * and weft_chan_elem_size_get reporting a bad handle. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include "check.h"
#include "weft.h"

static int returns_110(weft_ctx_t *ctx, void *arg) { (void)ctx; (void)arg; return -110; }
static int slow_task(weft_ctx_t *ctx, void *arg) { (void)arg; return weft_ctx_wait(ctx) == WEFT_ECANCELED ? 0 : 1; }
static int future_110(weft_ctx_t *ctx, void *arg, void *out) { (void)ctx; (void)arg; *(int *)out = 7; return -110; }
static int future_slow(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx; (void)out; weft_sleep_ns(*(int64_t *)arg); return 0;
}
static void once_slow(void *arg) { (void)arg; weft_sleep_ns(200000000); }

static void *call_once(void *o) { (void)!weft_once_do((weft_once_t *)o, once_slow, NULL); return NULL; }

int main(void) {
  /* group: a task's -110 comes back in *result, the wait itself returns 0 */
  weft_group_t *g; weft_ctx_t *gctx;
  CHECK_OK(weft_group_make(NULL, &g, &gctx));
  CHECK_OK(weft_group_go(g, returns_110, NULL));
  int result = 1;
  CHECK_OK(weft_group_wait_result(g, &result));
  CHECK(result == -110);
  CHECK_OK(weft_group_release(g));

  /* group: a deadline or a context ends the wait, the tasks keep running */
  CHECK_OK(weft_group_make(NULL, &g, &gctx));
  CHECK_OK(weft_group_go(g, slow_task, NULL));
  result = 42;
  CHECK_CODE(weft_group_wait_result_until(g, weft_now_ns() + 20000000, &result), WEFT_ETIMEDOUT);
  CHECK(result == 42);
  CHECK(weft_ctx_err(gctx) == 0);
  weft_ctx_t *c;
  CHECK_OK(weft_ctx_with_timeout(NULL, 20000000, &c));
  CHECK_CODE(weft_group_wait_result_ctx(g, c, &result), WEFT_ETIMEDOUT);
  CHECK_OK(weft_ctx_release(c));
  CHECK_OK(weft_ctx_cancel(gctx));
  CHECK_OK(weft_group_wait_result_ctx(g, NULL, &result));
  CHECK(result == 0);
  CHECK_OK(weft_group_release(g));
  CHECK_CODE(weft_group_wait_result(NULL, &result), WEFT_EINVAL);

  /* future: fn's -110 in *result, value copied */
  weft_future_t *f;
  CHECK_OK(weft_future_spawn(NULL, sizeof(int), future_110, NULL, &f));
  int value = 0;
  CHECK_OK(weft_future_await_result(f, &value, &result));
  CHECK(result == -110 && value == 7);
  CHECK_OK(weft_future_release(f));
  int64_t long_ns = 300000000;
  CHECK_OK(weft_future_spawn(NULL, sizeof(int), future_slow, &long_ns, &f));
  value = 5; result = 5;
  CHECK_CODE(weft_future_await_result_until(f, weft_now_ns() + 10000000, &value, &result), WEFT_ETIMEDOUT);
  CHECK(value == 5 && result == 5);
  CHECK_OK(weft_ctx_with_cancel(NULL, &c));
  CHECK_OK(weft_ctx_cancel(c));
  CHECK_CODE(weft_future_await_result_ctx(f, c, &value, &result), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_release(c));
  CHECK_OK(weft_future_await_result_ctx(f, NULL, NULL, &result));
  CHECK(result == 0);
  CHECK_OK(weft_future_release(f));
  CHECK_CODE(weft_future_await_result_until(NULL, 0, NULL, &result), WEFT_EINVAL);

  /* once: a deadline while another caller runs fn */
  weft_once_t *o;
  CHECK_OK(weft_once_make(&o));
  pthread_t t;
  CHECK(pthread_create(&t, NULL, call_once, o) == 0);
  struct timespec ts = {0, 50000000};
  nanosleep(&ts, NULL);
  CHECK_CODE(weft_once_do_until(o, once_slow, NULL, weft_now_ns() + 10000000), WEFT_ETIMEDOUT);
  CHECK_OK(weft_once_do_until(o, once_slow, NULL, WEFT_NO_DEADLINE));
  pthread_join(t, NULL);
  CHECK_CODE(weft_once_do_until(NULL, once_slow, NULL, 0), WEFT_EINVAL);
  CHECK_OK(weft_once_release(o));

  /* elem size: a bad handle is an error, not 0 */
  weft_chan_t *ch;
  CHECK_OK(weft_chan_make(0, 1, &ch));
  size_t size = 99;
  CHECK_OK(weft_chan_elem_size_get(ch, &size));
  CHECK(size == 0);
  CHECK_OK(weft_chan_release(ch));
  size = 99;
  CHECK_CODE(weft_chan_elem_size_get(ch, &size), WEFT_EINVAL);
  CHECK(size == 99);
  CHECK_CODE(weft_chan_elem_size_get(NULL, &size), WEFT_EINVAL);
  puts("header forms: ok");
  return 0;
}
