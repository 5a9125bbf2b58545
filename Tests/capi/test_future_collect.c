/* weft_collect: results in input order, partial success, a limit on
 * concurrency, jobs not done when the context ends report its error (and
 * never write the caller's arrays after collect returned). */
#include "check.h"

#include <stdatomic.h>
#include <string.h>

#define MS 1000000LL

static atomic_int running, max_running;

static int job(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx;
  int64_t i = (int64_t)(intptr_t)arg;
  int now = atomic_fetch_add(&running, 1) + 1;
  int seen = atomic_load(&max_running);
  while (now > seen && !atomic_compare_exchange_weak(&max_running, &seen, now)) {}
  weft_sleep_ns((i % 5) * MS);
  atomic_fetch_sub(&running, 1);
  int64_t v = i * 10;
  memcpy(out, &v, sizeof v);
  return i % 4 == 3 ? -(int)i : 0;
}

static int slow_job(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx;
  int64_t i = (int64_t)(intptr_t)arg;
  weft_sleep_ns(i < 5 ? 0 : 200 * MS);
  memcpy(out, &i, sizeof i);
  return 0;
}

enum { N = 200 };

int main(void) {
  weft_job jobs[N];
  int64_t values[N];
  int errs[N];
  for (int i = 0; i < N; i++) jobs[i] = (weft_job){job, (void *)(intptr_t)i};
  int64_t ok = weft_collect(NULL, jobs, N, sizeof(int64_t), values, errs, 8);
  CHECK(ok == N - N / 4);
  for (int i = 0; i < N; i++) {
    CHECK(values[i] == i * 10);
    CHECK(errs[i] == (i % 4 == 3 ? -i : 0));
  }
  CHECK(atomic_load(&max_running) <= 8);
  /* no limit */
  CHECK(weft_collect(NULL, jobs, N, sizeof(int64_t), values, errs, 0) == N - N / 4);

  /* a timeout: the quick jobs succeed, the slow ones report ETIMEDOUT */
  for (int i = 0; i < 10; i++) jobs[i] = (weft_job){slow_job, (void *)(intptr_t)i};
  weft_ctx_t *t;
  CHECK_OK(weft_ctx_with_timeout(NULL, 50 * MS, &t));
  memset(values, 0xff, sizeof values);
  int64_t t0 = weft_now_ns();
  CHECK(weft_collect(t, jobs, 10, sizeof(int64_t), values, errs, 0) == 5);
  CHECK(weft_now_ns() - t0 < 150 * MS);
  for (int i = 0; i < 10; i++) {
    if (i < 5) CHECK(errs[i] == 0 && values[i] == i);
    else CHECK(errs[i] == WEFT_ETIMEDOUT && values[i] == -1);
  }
  CHECK_OK(weft_ctx_release(t));
  /* the stragglers finish later and must not touch values/errs */
  memset(values, 0x11, sizeof values);
  weft_sleep_ns(250 * MS);
  for (int i = 0; i < 10; i++) CHECK(values[i] == 0x1111111111111111LL);

  /* canceled before the start: nothing runs */
  weft_ctx_t *c;
  CHECK_OK(weft_ctx_with_cancel(NULL, &c));
  CHECK_OK(weft_ctx_cancel(c));
  CHECK(weft_collect(c, jobs, 10, sizeof(int64_t), values, errs, 2) == 0);
  for (int i = 0; i < 10; i++) CHECK(errs[i] == WEFT_ECANCELED);
  CHECK_OK(weft_ctx_release(c));
  CHECK(weft_collect(NULL, jobs, 0, 8, NULL, NULL, 0) == 0);
  CHECK(weft_collect(NULL, NULL, 3, 8, values, errs, 0) == WEFT_EINVAL);
  CHECK_OK(weft_shutdown());
  return 0;
}
