/* weft_shutdown: waits for running tasks, refuses new work, turns blocking calls
 * into WEFT_ESHUTDOWN, resumes tasks still parked after the grace period with
 * WEFT_ESHUTDOWN (and returns WEFT_ETIMEDOUT), is idempotent, and is refused
 * from inside a task. */
#include "check.h"

#include <stdatomic.h>

static atomic_int finished;
static atomic_int in_task_result = 1;

static void slow(void *arg) {
  (void)arg;
  weft_sleep_ns(50 * 1000000);
  atomic_fetch_add(&finished, 1);
}

static void stuck(void *arg) {
  weft_chan_t *never = arg;
  int v;
  CHECK_CODE(weft_chan_recv(never, &v), WEFT_ESHUTDOWN); /* nobody ever sends */
}

static void tries_shutdown(void *arg) {
  (void)arg;
  atomic_store(&in_task_result, weft_shutdown());
}

int main(void) {
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = 300 * 1000000LL;
  CHECK_OK(weft_init(&cfg));

  CHECK_OK(weft_go(tries_shutdown, NULL));
  while (atomic_load(&in_task_result) == 1) weft_sleep_ns(1000000);
  CHECK(atomic_load(&in_task_result) == WEFT_EDEADLK);

  weft_chan_t *never;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &never));
  CHECK_OK(weft_go(stuck, never));
  weft_stats st = {.size = sizeof st};
  do { /* parked before shutdown begins (else its receive would be refused) */
    weft_sleep_ns(1000000);
    CHECK_OK(weft_stats_get(&st));
  } while (st.tasks_parked < 1);
  for (int i = 0; i < 100; i++) CHECK_OK(weft_go(slow, NULL));
  weft_sleep_ns(5 * 1000000);

  int64_t start = weft_now_ns();
  CHECK_CODE(weft_shutdown(), WEFT_ETIMEDOUT); /* the stuck task outlived the grace */
  int64_t took = weft_now_ns() - start;
  CHECK(atomic_load(&finished) == 100); /* the sleepers were waited for */
  CHECK(took >= 250 * 1000000LL && took < 5000 * 1000000LL);

  CHECK_OK(weft_shutdown()); /* idempotent */
  CHECK_CODE(weft_go(slow, NULL), WEFT_ESHUTDOWN);
  int v = 1;
  CHECK_CODE(weft_chan_send(never, &v), WEFT_ESHUTDOWN); /* would block: refused */
  CHECK_CODE(weft_sleep_ns(1000000), WEFT_ESHUTDOWN);
  weft_chan_t *buffered;
  CHECK_OK(weft_chan_make(sizeof(int), 1, &buffered)); /* non-blocking work still works */
  CHECK_OK(weft_chan_send(buffered, &v));
  CHECK_OK(weft_chan_recv(buffered, &v));
  weft_chan_release(buffered);
  return 0;
}
