/* errgroup semantics (golang.org/x/sync/errgroup tests): zero group, the first
 * error wins and cancels the group's context (cause = that error) so siblings
 * stop, wait cancels the context, limits, try_go, set_limit busy; from a thread
 * and from a task. */
#include "check.h"

#include <stdatomic.h>

#define MS 1000000LL

static atomic_int ran, stopped_early, max_seen, now_running;

static int ok_fn(weft_ctx_t *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&ran, 1);
  return 0;
}

static int fail_fn(weft_ctx_t *ctx, void *arg) {
  (void)ctx;
  weft_sleep_ns(5 * MS);
  return (int)(intptr_t)arg;
}

static int sibling_fn(weft_ctx_t *ctx, void *arg) {
  (void)arg;
  int err = weft_ctx_wait(ctx); /* stops once a sibling failed */
  if (err == WEFT_ECANCELED) atomic_fetch_add(&stopped_early, 1);
  return 0;
}

static int limited_fn(weft_ctx_t *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  int now = atomic_fetch_add(&now_running, 1) + 1;
  int seen = atomic_load(&max_seen);
  while (now > seen && !atomic_compare_exchange_weak(&max_seen, &seen, now)) {}
  weft_sleep_ns(1 * MS);
  atomic_fetch_sub(&now_running, 1);
  return 0;
}

static int blocker_fn(weft_ctx_t *ctx, void *arg) {
  (void)ctx;
  weft_chan_recv((weft_chan_t *)arg, NULL);
  return 0;
}

static void tests(void) {
  weft_group_t *g;
  weft_ctx_t *gctx;
  /* all succeed: wait returns 0 and cancels the context */
  atomic_store(&ran, 0);
  CHECK_OK(weft_group_make(NULL, &g, &gctx));
  for (int i = 0; i < 100; i++) CHECK_OK(weft_group_go(g, ok_fn, NULL));
  CHECK_OK(weft_group_wait(g));
  CHECK(atomic_load(&ran) == 100);
  CHECK_CODE(weft_ctx_err(gctx), WEFT_ECANCELED);
  CHECK_OK(weft_group_release(g));

  /* an empty group */
  CHECK_OK(weft_group_make(NULL, &g, NULL));
  CHECK_OK(weft_group_wait(g));
  CHECK_OK(weft_group_release(g));

  /* the first error wins, cancels the siblings through the context */
  atomic_store(&stopped_early, 0);
  weft_ctx_t *parent;
  CHECK_OK(weft_ctx_with_cancel(NULL, &parent));
  CHECK_OK(weft_group_make(parent, &g, &gctx));
  for (int i = 0; i < 10; i++) CHECK_OK(weft_group_go(g, sibling_fn, NULL));
  CHECK_OK(weft_group_go(g, fail_fn, (void *)(intptr_t)-7));
  CHECK(weft_group_wait(g) == -7);
  CHECK(atomic_load(&stopped_early) == 10);
  CHECK_CODE(weft_ctx_err(gctx), WEFT_ECANCELED);
  CHECK(weft_ctx_cause(gctx) == -7);
  CHECK_OK(weft_ctx_err(parent)); /* the parent is untouched */
  CHECK_OK(weft_group_release(g));

  /* a canceled parent cancels the group's context */
  CHECK_OK(weft_group_make(parent, &g, &gctx));
  for (int i = 0; i < 5; i++) CHECK_OK(weft_group_go(g, sibling_fn, NULL));
  CHECK_OK(weft_ctx_cancel(parent));
  CHECK_OK(weft_group_wait(g));
  CHECK_OK(weft_group_release(g));
  CHECK_OK(weft_ctx_release(parent));

  /* limit */
  atomic_store(&max_seen, 0);
  CHECK_OK(weft_group_make(NULL, &g, &gctx));
  CHECK_OK(weft_group_set_limit(g, 3));
  for (int i = 0; i < 50; i++) CHECK_OK(weft_group_go(g, limited_fn, NULL));
  CHECK_OK(weft_group_wait(g));
  CHECK(atomic_load(&max_seen) <= 3 && atomic_load(&max_seen) >= 1);
  CHECK_OK(weft_group_release(g));

  /* try_go at the limit; set_limit while running */
  weft_chan_t *gate;
  CHECK_OK(weft_chan_make(0, 0, &gate));
  CHECK_OK(weft_group_make(NULL, &g, &gctx));
  CHECK_OK(weft_group_set_limit(g, 1));
  CHECK_OK(weft_group_try_go(g, blocker_fn, gate));
  CHECK_CODE(weft_group_try_go(g, ok_fn, NULL), WEFT_EAGAIN);
  CHECK_CODE(weft_group_set_limit(g, 5), WEFT_EBUSY);
  CHECK_OK(weft_chan_close(gate));
  CHECK_OK(weft_group_wait(g));
  CHECK_OK(weft_group_set_limit(g, -1));
  CHECK_OK(weft_group_try_go(g, ok_fn, NULL));
  CHECK_OK(weft_group_wait(g));
  CHECK_OK(weft_group_set_limit(g, 0));
  CHECK_CODE(weft_group_go(g, ok_fn, NULL), WEFT_EDEADLK);
  CHECK_CODE(weft_group_try_go(g, ok_fn, NULL), WEFT_EAGAIN);
  CHECK_OK(weft_group_release(g));
  CHECK_OK(weft_chan_release(gate));

  CHECK_CODE(weft_group_go(NULL, ok_fn, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_group_make(NULL, NULL, NULL), WEFT_EINVAL);
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
  int64_t limit = weft_now_ns() + 20000 * MS;
  while (!atomic_load(&task_done) && weft_now_ns() < limit) weft_sleep_ns(MS);
  CHECK(atomic_load(&task_done));
  CHECK_OK(weft_shutdown());
  return 0;
}
