/* Futures: value and code delivered once, await with a context that ends first
 * (the future keeps running), ready; from a thread and a task. */
#include "check.h"

#include <stdatomic.h>
#include <string.h>

#define MS 1000000LL

typedef struct { int64_t a, b; } pair;

static int make_pair(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx;
  int64_t n = (int64_t)(intptr_t)arg;
  weft_sleep_ns(n * MS);
  pair p = {n, n * n};
  memcpy(out, &p, sizeof p);
  return n == 13 ? -5 : 0;
}

static int no_value(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx;
  (void)arg;
  CHECK(out == NULL);
  return 7;
}

static atomic_int slow_finished;
static int slow(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx;
  (void)arg;
  weft_sleep_ns(60 * MS);
  *(int *)out = 99;
  atomic_store(&slow_finished, 1);
  return 0;
}

static void tests(void) {
  weft_future_t *f;
  pair p;
  CHECK_OK(weft_future_spawn(NULL, sizeof(pair), make_pair, (void *)(intptr_t)5, &f));
  CHECK_OK(weft_future_await(f, NULL, &p));
  CHECK(p.a == 5 && p.b == 25);
  CHECK(weft_future_ready(f) == 1);
  memset(&p, 0, sizeof p);
  CHECK_OK(weft_future_await(f, NULL, &p)); /* again: same result */
  CHECK(p.a == 5 && p.b == 25);
  CHECK_OK(weft_future_release(f));

  CHECK_OK(weft_future_spawn(NULL, sizeof(pair), make_pair, (void *)(intptr_t)13, &f));
  CHECK_CODE(weft_future_await(f, NULL, &p), -5);
  CHECK(p.a == 13);
  CHECK_OK(weft_future_release(f));

  /* the await's context ends first; the future keeps running */
  atomic_store(&slow_finished, 0);
  weft_ctx_t *t;
  CHECK_OK(weft_ctx_with_timeout(NULL, 10 * MS, &t));
  CHECK_OK(weft_future_spawn(NULL, sizeof(int), slow, NULL, &f));
  int v = 0;
  CHECK_CODE(weft_future_await(f, t, &v), WEFT_ETIMEDOUT);
  CHECK(weft_future_ready(f) == 0);
  CHECK_OK(weft_future_await(f, NULL, &v));
  CHECK(v == 99 && atomic_load(&slow_finished));
  CHECK_OK(weft_ctx_release(t));
  /* released before it finishes: no crash, it still runs to the end */
  atomic_store(&slow_finished, 0);
  CHECK_OK(weft_future_spawn(NULL, sizeof(int), slow, NULL, &f));
  CHECK_OK(weft_future_release(f));
  while (!atomic_load(&slow_finished)) weft_sleep_ns(MS);
  weft_ctx_t *c;
  CHECK_OK(weft_ctx_with_cancel(NULL, &c));
  CHECK_OK(weft_future_spawn(c, sizeof(int), slow, NULL, &f));
  CHECK_OK(weft_ctx_cancel(c));
  CHECK_CODE(weft_future_await(f, c, &v), WEFT_ECANCELED);
  CHECK_OK(weft_future_release(f));
  CHECK_OK(weft_ctx_release(c));

  /* zero-size value, NULL out */
  CHECK_OK(weft_future_spawn(NULL, 0, no_value, NULL, &f));
  CHECK_CODE(weft_future_await(f, NULL, NULL), 7);
  CHECK_OK(weft_future_release(f));
  CHECK_CODE(weft_future_spawn(NULL, 8, NULL, NULL, &f), WEFT_EINVAL);
  CHECK_CODE(weft_future_await(NULL, NULL, NULL), WEFT_EINVAL);
}

static atomic_int task_done;
static void task(void *arg) {
  (void)arg;
  tests();
  atomic_store(&task_done, 1);
}

int main(void) {
  tests();
  CHECK_OK(weft_go(task, NULL));
  while (!atomic_load(&task_done)) weft_sleep_ns(MS);
  weft_sleep_ns(100 * MS);
  CHECK_OK(weft_shutdown());
  return 0;
}
