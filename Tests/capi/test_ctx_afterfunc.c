/* Go's AfterFunc tests: runs in a new task once the context ends (at once if
 * it already has), stop prevents the run (1) or reports it too late (0). */
#include "check.h"

#include <stdatomic.h>

#define MS 1000000LL

static atomic_int ran;
static atomic_int ran_in_task;

static void fn(void *arg) {
  (void)arg;
  if (weft_in_task()) atomic_fetch_add(&ran_in_task, 1);
  atomic_fetch_add(&ran, 1);
}

static void wait_ran(int want) {
  int64_t limit = weft_now_ns() + 5000 * MS;
  while (atomic_load(&ran) < want && weft_now_ns() < limit) weft_sleep_ns(MS);
  CHECK(atomic_load(&ran) == want);
}

int main(void) {
  weft_ctx_t *c;
  weft_after_func_t *af, *af2, *af3;
  /* runs after cancel, in a task */
  CHECK_OK(weft_ctx_with_cancel(NULL, &c));
  CHECK_OK(weft_ctx_after_func(c, fn, NULL, &af));
  CHECK_OK(weft_ctx_after_func(c, fn, NULL, &af2));
  CHECK_OK(weft_ctx_after_func(c, fn, NULL, &af3));
  CHECK(weft_after_func_stop(af3) == 1); /* stopped before the cancel */
  weft_sleep_ns(10 * MS);
  CHECK(atomic_load(&ran) == 0);
  CHECK_OK(weft_ctx_cancel(c));
  wait_ran(2);
  CHECK(atomic_load(&ran_in_task) == 2);
  CHECK(weft_after_func_stop(af) == 0); /* too late */
  CHECK_OK(weft_after_func_release(af2));
  /* already canceled: runs at once */
  CHECK_OK(weft_ctx_after_func(c, fn, NULL, &af));
  wait_ran(3);
  CHECK(weft_after_func_stop(af) == 0);
  CHECK_OK(weft_ctx_release(c));
  /* on a timeout, through a value context */
  static int key;
  weft_ctx_t *t, *v;
  CHECK_OK(weft_ctx_with_timeout(NULL, 20 * MS, &t));
  CHECK_OK(weft_ctx_with_value(t, &key, NULL, NULL, &v));
  CHECK_OK(weft_ctx_after_func(v, fn, NULL, NULL)); /* no handle kept */
  CHECK_OK(weft_ctx_release(v));
  CHECK_OK(weft_ctx_release(t)); /* the registration keeps it alive */
  wait_ran(4);
  /* background never ends: stop prevents the (never) run */
  CHECK_OK(weft_ctx_after_func(NULL, fn, NULL, &af));
  CHECK(weft_after_func_stop(af) == 1);
  CHECK_CODE(weft_ctx_after_func(NULL, NULL, NULL, &af), WEFT_EINVAL);
  /* stop racing cancel: exactly one wins, many rounds */
  for (int i = 0; i < 2000; i++) {
    atomic_store(&ran, 0);
    CHECK_OK(weft_ctx_with_cancel(NULL, &c));
    CHECK_OK(weft_ctx_after_func(c, fn, NULL, &af));
    CHECK_OK(weft_ctx_cancel(c));
    int stopped = weft_after_func_stop(af);
    CHECK(stopped == 0 || stopped == 1);
    if (!stopped) wait_ran(1);
    else CHECK(atomic_load(&ran) == 0);
    CHECK_OK(weft_ctx_release(c));
  }
  weft_sleep_ns(10 * MS);
  CHECK_OK(weft_shutdown());
  return 0;
}
