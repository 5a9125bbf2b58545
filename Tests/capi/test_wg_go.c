/* weft_wg_go (Go 1.25's wg.Go): add + spawn + done; joined from a thread and
 * from a task; bodies that spawn more work into the same group. */
#include "sync_util.h"

static atomic_long sum;
static weft_wg_t *group;

static void body(void *arg) { atomic_fetch_add(&sum, (long)(intptr_t)arg); }

static void fan_out(void *arg) {
  long n = (long)(intptr_t)arg;
  for (long i = 1; i <= n; i++) CHECK_OK(weft_wg_go(group, body, (void *)(intptr_t)i));
}

static void join_in_task(void *raw) {
  (void)raw;
  atomic_store(&sum, 0);
  for (long i = 1; i <= 10000; i++) CHECK_OK(weft_wg_go(group, body, (void *)(intptr_t)i));
  CHECK_OK(weft_wg_wait(group));
  CHECK(atomic_load(&sum) == 10000L * 10001 / 2);
}

int main(void) {
  CHECK_OK(weft_wg_make(&group));
  /* From the main thread. */
  for (long i = 1; i <= 10000; i++) CHECK_OK(weft_wg_go(group, body, (void *)(intptr_t)i));
  CHECK_OK(weft_wg_wait(group));
  CHECK(atomic_load(&sum) == 10000L * 10001 / 2);
  /* From a task. */
  run_in_task(join_in_task, NULL);
  /* Nested: 10 group tasks each add 1000 more to the same group. */
  atomic_store(&sum, 0);
  for (int i = 0; i < 10; i++) CHECK_OK(weft_wg_go(group, fan_out, (void *)(intptr_t)1000));
  CHECK_OK(weft_wg_wait(group));
  CHECK(atomic_load(&sum) == 10L * 1000 * 1001 / 2);
  /* The group is reusable and empty again. */
  CHECK_OK(weft_wg_wait_until(group, weft_now_ns()));
  CHECK_CODE(weft_wg_done(group), WEFT_ERANGE);
  /* Releasing our reference while tasks still run is safe: they hold one. */
  for (long i = 1; i <= 100; i++) CHECK_OK(weft_wg_go(group, body, (void *)(intptr_t)i));
  CHECK_OK(weft_wg_release(group));
  sleep_ms_thread(50);
  printf("wg_go ok\n");
  return 0;
}
