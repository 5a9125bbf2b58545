/* Tasks: spawn, yield, ids, in_task, sleep from tasks and from the main thread. */
#include "check.h"

#include <stdatomic.h>
#include <string.h>

static atomic_int ran;
static atomic_ullong seen_ids[64];

static void record(void *arg) {
  long i = (long)arg;
  CHECK(weft_in_task() == 1);
  uint64_t id = weft_task_id();
  CHECK(id > 0);
  seen_ids[i] = id;
  CHECK_OK(weft_yield());
  CHECK(weft_task_id() == id); /* the same task after a switch */
  atomic_fetch_add(&ran, 1);
}

static void sleeper(void *arg) {
  (void)arg;
  int64_t start = weft_now_ns();
  CHECK_OK(weft_sleep_ns(20 * 1000000));
  int64_t slept = weft_now_ns() - start;
  CHECK(slept >= 20 * 1000000); /* never early */
  CHECK(slept < 2000 * 1000000LL);
  CHECK_OK(weft_sleep_ns(0));
  CHECK_OK(weft_sleep_ns(-5));
  CHECK_OK(weft_sleep_until(weft_now_ns() - 1));
  atomic_fetch_add(&ran, 1);
}

static void wait_for(int n) {
  int64_t deadline = weft_now_ns() + 10LL * 1000000000;
  while (atomic_load(&ran) < n) {
    CHECK(weft_now_ns() < deadline);
    CHECK_OK(weft_sleep_ns(100000));
  }
}

int main(void) {
  CHECK(weft_in_task() == 0);
  CHECK(weft_task_id() == 0);
  for (long i = 0; i < 64; i++) CHECK_OK(weft_go(record, (void *)i));
  wait_for(64);
  for (int i = 0; i < 64; i++)
    for (int j = i + 1; j < 64; j++) CHECK(seen_ids[i] != seen_ids[j]);

  atomic_store(&ran, 0);
  for (int i = 0; i < 100; i++) CHECK_OK(weft_go(sleeper, NULL));
  wait_for(100);

  /* Sleep from the main thread: a plain thread blocks. */
  int64_t start = weft_now_ns();
  CHECK_OK(weft_sleep_ns(15 * 1000000));
  CHECK(weft_now_ns() - start >= 15 * 1000000);
  CHECK_OK(weft_yield()); /* sched_yield on a plain thread */

  weft_task_opts opts;
  weft_task_opts_init(&opts);
  CHECK(opts.size == sizeof opts);
  opts.name = "named-task-with-a-long-name-that-gets-cut";
  opts.stack_size = 256 * 1024;
  atomic_store(&ran, 0);
  CHECK_OK(weft_go_opts(record, (void *)0, &opts));
  wait_for(1);
  CHECK_OK(weft_shutdown());
  return 0;
}
