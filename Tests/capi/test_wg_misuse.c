/* WaitGroup misuse and error codes: a negative counter is WEFT_ERANGE and leaves
 * the counter unchanged; NULL and released handles are WEFT_EINVAL; the deadline
 * form times out (thread and task); NULL ctx is the background context. */
#include "sync_util.h"

static weft_wg_t *shared;

static void timed_wait(void *raw) {
  (void)raw;
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_wg_wait_until(shared, start + 20 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - start >= 20 * MS);
  /* A deadline in the past fails at once. */
  CHECK_CODE(weft_wg_wait_until(shared, weft_now_ns() - 1), WEFT_ETIMEDOUT);
}

static void ctx_wait(void *raw) {
  (void)raw;
  CHECK_OK(weft_wg_wait_ctx(shared, NULL));
}

static void releaser(void *raw) {
  (void)raw;
  nap_ms(10);
  CHECK_OK(weft_wg_done(shared));
}

int main(void) {
  weft_wg_t *wg;
  CHECK_CODE(weft_wg_make(NULL), WEFT_EINVAL);
  CHECK_OK(weft_wg_make(&wg));
  shared = wg;

  /* Negative counter: WEFT_ERANGE, counter unchanged. */
  CHECK_CODE(weft_wg_done(wg), WEFT_ERANGE);
  CHECK_CODE(weft_wg_add(wg, -1), WEFT_ERANGE);
  CHECK_OK(weft_wg_wait(wg)); /* still zero */
  CHECK_OK(weft_wg_add(wg, 3));
  CHECK_CODE(weft_wg_add(wg, -4), WEFT_ERANGE);
  CHECK_OK(weft_wg_add(wg, -3)); /* exactly 3: the failed -4 changed nothing */
  CHECK_OK(weft_wg_wait(wg));
  CHECK_CODE(weft_wg_done(wg), WEFT_ERANGE);
  /* Absurd deltas (beyond the 32-bit counter) are out of range too. */
  CHECK_CODE(weft_wg_add(wg, INT64_MAX), WEFT_ERANGE);
  CHECK_CODE(weft_wg_add(wg, INT64_MIN), WEFT_ERANGE);
  CHECK_CODE(weft_wg_add(wg, (int64_t)1 << 31), WEFT_ERANGE);
  CHECK_OK(weft_wg_add(wg, 0));
  CHECK_OK(weft_wg_wait(wg));

  /* Deadline forms, from a thread and from a task. */
  CHECK_OK(weft_wg_add(wg, 1));
  timed_wait(NULL);
  run_in_task(timed_wait, NULL);
  run_mixed(2, 2, timed_wait, NULL);
  /* A timed-out waiter leaves no trace: done still reaches zero cleanly and a
   * wait after that returns at once. */
  CHECK_OK(weft_wg_done(wg));
  CHECK_OK(weft_wg_wait(wg));
  CHECK_CODE(weft_wg_done(wg), WEFT_ERANGE);

  /* ctx form with NULL = background: waits for the count. */
  CHECK_OK(weft_wg_add(wg, 1));
  CHECK_OK(weft_go(releaser, NULL));
  ctx_wait(NULL);
  CHECK_OK(weft_wg_wait_until(wg, weft_now_ns()));

  /* NULL handles. */
  CHECK_CODE(weft_wg_add(NULL, 1), WEFT_EINVAL);
  CHECK_CODE(weft_wg_done(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_wg_wait(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_wg_wait_until(NULL, 0), WEFT_EINVAL);
  CHECK_CODE(weft_wg_wait_ctx(NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_wg_go(NULL, releaser, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_wg_go(wg, NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_wg_release(NULL), WEFT_EINVAL);
  CHECK(weft_wg_retain(NULL) == NULL);

  /* Retain/release: two references, two releases; a wrong-type handle is
   * rejected. */
  CHECK(weft_wg_retain(wg) == wg);
  CHECK_OK(weft_wg_release(wg));
  CHECK_OK(weft_wg_add(wg, 0));
  weft_mutex_t *mu;
  CHECK_OK(weft_mutex_make(&mu));
  CHECK_CODE(weft_wg_add((weft_wg_t *)mu, 1), WEFT_EINVAL);
  CHECK_CODE(weft_mutex_lock((weft_mutex_t *)wg), WEFT_EINVAL);
  CHECK_OK(weft_mutex_release(mu));
  CHECK_OK(weft_wg_release(wg));
  printf("wg misuse ok\n");
  return 0;
}
