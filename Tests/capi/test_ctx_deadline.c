/* Go's context tests, deadline half: Deadline, Timeout, CanceledTimeout,
 * LayersTimeout; a child's deadline is never later than its parent's; the timer
 * of a context canceled early is stopped. From a thread and from tasks. */
#include "check.h"

#include <stdatomic.h>

#define MS 1000000LL

static void expect_timeout_soon(weft_ctx_t *c, int64_t min_ns) {
  int64_t t0 = weft_now_ns();
  CHECK_CODE(weft_ctx_wait(c), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_ctx_err(c), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_ctx_cause(c), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_chan_recv(weft_ctx_done(c), NULL), WEFT_ECLOSED);
  (void)t0;
  (void)min_ns;
}

static void deadline(void) {
  weft_ctx_t *c, *o;
  int64_t d = weft_now_ns() + 50 * MS;
  CHECK_OK(weft_ctx_with_deadline(NULL, d, &c));
  int64_t got = 0;
  CHECK(weft_ctx_deadline(c, &got) == 1);
  CHECK(got == d);
  CHECK_OK(weft_ctx_err(c));
  expect_timeout_soon(c, 0);
  CHECK(weft_now_ns() >= d); /* never early */
  CHECK_OK(weft_ctx_release(c));

  /* a later child deadline is clipped to the parent's */
  d = weft_now_ns() + 50 * MS;
  CHECK_OK(weft_ctx_with_deadline(NULL, d, &c));
  CHECK_OK(weft_ctx_with_deadline(c, d + 3600 * 1000 * MS, &o));
  CHECK(weft_ctx_deadline(o, &got) == 1 && got == d);
  expect_timeout_soon(o, 0);
  CHECK(weft_now_ns() >= d);
  CHECK_OK(weft_ctx_release(o));
  CHECK_OK(weft_ctx_release(c));

  /* an earlier child deadline is its own */
  CHECK_OK(weft_ctx_with_timeout(NULL, 3600 * 1000 * MS, &c));
  CHECK_OK(weft_ctx_with_timeout(c, 20 * MS, &o));
  CHECK(weft_ctx_deadline(o, &got) == 1 && got < weft_now_ns() + 30 * MS);
  expect_timeout_soon(o, 0);
  CHECK_OK(weft_ctx_err(c));
  CHECK_OK(weft_ctx_cancel(c));
  CHECK_OK(weft_ctx_release(o));
  CHECK_OK(weft_ctx_release(c));

  /* a deadline in the past: done at once */
  CHECK_OK(weft_ctx_with_deadline(NULL, weft_now_ns() - 1, &c));
  CHECK_CODE(weft_ctx_err(c), WEFT_ETIMEDOUT);
  CHECK_OK(weft_ctx_release(c));
  CHECK_OK(weft_ctx_with_timeout(NULL, 0, &c));
  CHECK_CODE(weft_ctx_err(c), WEFT_ETIMEDOUT);
  CHECK_OK(weft_ctx_release(c));
  CHECK(weft_ctx_deadline(NULL, &got) == 0);
}

static void canceled_timeout(void) {
  weft_ctx_t *c, *o;
  CHECK_OK(weft_ctx_with_timeout(NULL, 1000 * MS, &c));
  CHECK_OK(weft_ctx_with_cancel(c, &o));
  CHECK_OK(weft_ctx_cancel(o));
  CHECK_CODE(weft_ctx_wait(o), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_err(c));
  CHECK_OK(weft_ctx_cancel(c)); /* early: the timer is stopped */
  CHECK_CODE(weft_ctx_err(c), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_release(o));
  CHECK_OK(weft_ctx_release(c));
}

static void layers_timeout(void) {
  static int key;
  weft_ctx_t *c[6];
  weft_ctx_t *cur = NULL;
  for (int i = 0; i < 6; i++) {
    switch (i % 3) {
    case 0: CHECK_OK(weft_ctx_with_value(cur, &key, &key, NULL, &c[i])); break;
    case 1: CHECK_OK(weft_ctx_with_cancel(cur, &c[i])); break;
    case 2: CHECK_OK(weft_ctx_with_timeout(cur, (i == 2 ? 30 : 3600 * 1000) * MS, &c[i])); break;
    }
    cur = c[i];
  }
  CHECK_CODE(weft_ctx_wait(cur), WEFT_ETIMEDOUT);
  CHECK_OK(weft_ctx_err(c[0]));
  CHECK_OK(weft_ctx_err(c[1]));
  for (int i = 2; i < 6; i++) CHECK_CODE(weft_ctx_err(c[i]), WEFT_ETIMEDOUT);
  CHECK_OK(weft_ctx_cancel(c[1]));
  for (int i = 5; i >= 0; i--) CHECK_OK(weft_ctx_release(c[i]));
}

/* Many short timeouts from tasks: each fires, none early. */
enum { N = 2000 };
static atomic_int expired, early;

static void timeout_task(void *arg) {
  (void)arg;
  weft_ctx_t *c;
  CHECK_OK(weft_ctx_with_timeout(NULL, 10 * MS, &c));
  int64_t d = 0;
  CHECK(weft_ctx_deadline(c, &d) == 1);
  if (weft_ctx_wait(c) == WEFT_ETIMEDOUT) atomic_fetch_add(&expired, 1);
  if (weft_now_ns() < d) atomic_fetch_add(&early, 1);
  CHECK_OK(weft_ctx_cancel(c));
  CHECK_OK(weft_ctx_release(c));
}

static atomic_int done_tests;
static void tests_task(void *arg) {
  (void)arg;
  deadline();
  canceled_timeout();
  layers_timeout();
  atomic_store(&done_tests, 1);
}

int main(void) {
  deadline();
  canceled_timeout();
  layers_timeout();
  CHECK_OK(weft_go(tests_task, NULL));
  for (int i = 0; i < N; i++) CHECK_OK(weft_go(timeout_task, NULL));
  int64_t limit = weft_now_ns() + 10000 * MS;
  while ((atomic_load(&expired) < N || !atomic_load(&done_tests)) && weft_now_ns() < limit) weft_sleep_ns(MS);
  CHECK(atomic_load(&expired) == N);
  CHECK(atomic_load(&early) == 0);
  CHECK(atomic_load(&done_tests));
  CHECK_OK(weft_shutdown());
  return 0;
}
