/* Work reaches idle workers: a task that spawns others and then computes
 * without yielding does not hold them hostage (stealing from the local queue and,
 * after a while, from the run-next slot); a yield ping-pong stays cheap. */
#include "check.h"

#include <stdatomic.h>

static atomic_int child_ran;
static atomic_int parent_done;

static void child(void *arg) {
  (void)arg;
  atomic_fetch_add(&child_ran, 1);
}

static void hog(void *arg) {
  long children = (long)arg;
  for (long i = 0; i < children; i++) CHECK_OK(weft_go(child, NULL));
  /* Busy for up to 2 s without yielding, until the children ran elsewhere. */
  int64_t until = weft_now_ns() + 2000LL * 1000000;
  while (atomic_load(&child_ran) < children && weft_now_ns() < until) {
  }
  CHECK(atomic_load(&child_ran) == children);
  atomic_store(&parent_done, 1);
}

int main(void) {
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 2;
  CHECK_OK(weft_init(&cfg));
  for (long children = 1; children <= 3; children += 2) { /* runnext alone; runnext + queue */
    atomic_store(&child_ran, 0);
    atomic_store(&parent_done, 0);
    CHECK_OK(weft_go(hog, (void *)children));
    while (!atomic_load(&parent_done)) weft_sleep_ns(1000000);
  }
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  CHECK(st.steals >= 2);
  CHECK_OK(weft_shutdown());
  return 0;
}
