/* 1,000,000 tasks spawned and finished in one run, from a task and from the main
 * thread; 100,000 tasks parked at once; nothing left alive afterwards. */
#include "check.h"

#include <stdatomic.h>

static atomic_long finished;
static atomic_long asleep;

static void count(void *arg) {
  (void)arg;
  atomic_fetch_add(&finished, 1);
}

static void spawner(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) CHECK_OK(weft_go(count, NULL));
}

static void nap(void *arg) {
  (void)arg;
  atomic_fetch_add(&asleep, 1);
  CHECK_OK(weft_sleep_ns(3000 * 1000000LL));
  atomic_fetch_add(&finished, 1);
}

static void wait_count(atomic_long *c, long n) {
  int64_t deadline = weft_now_ns() + 60LL * 1000000000;
  while (atomic_load(c) < n) {
    CHECK(weft_now_ns() < deadline);
    weft_sleep_ns(1000000);
  }
}

int main(void) {
  CHECK_OK(weft_go(spawner, (void *)500000L));
  for (long i = 0; i < 500000; i++) CHECK_OK(weft_go(count, NULL));
  wait_count(&finished, 1000000);

  atomic_store(&finished, 0);
  for (long i = 0; i < 100000; i++) CHECK_OK(weft_go(nap, NULL));
  wait_count(&asleep, 100000);
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  printf("parked %llu of live %llu, timers %llu\n", (unsigned long long)st.tasks_parked,
         (unsigned long long)st.tasks_live, (unsigned long long)st.timers_pending);
  CHECK(st.tasks_live >= 90000); /* most still asleep */
  CHECK(st.tasks_parked >= 80000);
  wait_count(&finished, 100000);

  /* Stats settle: everything finished. */
  for (int i = 0; i < 100; i++) {
    CHECK_OK(weft_stats_get(&st));
    if (st.tasks_live == 0) break;
    weft_sleep_ns(1000000);
  }
  CHECK(st.tasks_live == 0);
  CHECK(st.tasks_spawned == 1100001);
  CHECK(st.tasks_finished == 1100001);
  CHECK(st.tasks_parked == 0);
  CHECK_OK(weft_shutdown());
  return 0;
}
