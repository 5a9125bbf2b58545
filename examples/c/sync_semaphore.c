/* The worker-limit pattern: 100,000 tasks, at most 64 in flight, enforced by a
 * weighted semaphore acquired before each spawn and released by the task. The
 * program tracks the in-flight maximum and checks it never exceeds 64.
 *   usage: sync_semaphore [--test]     (--test: 10,000 tasks) */
#include "weft.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { LIMIT = 64 };
static weft_sem_t *sem;
static atomic_int in_flight, max_in_flight;
static atomic_long done_jobs;

static void job(void *arg) {
  (void)arg;
  int now = atomic_fetch_add(&in_flight, 1) + 1;
  int seen = atomic_load(&max_in_flight);
  while (now > seen && !atomic_compare_exchange_weak(&max_in_flight, &seen, now)) {
  }
  weft_sleep_ns(100000); /* some work that waits (0.1 ms; timers tick per ms) */
  atomic_fetch_add(&done_jobs, 1);
  atomic_fetch_sub(&in_flight, 1);
  weft_sem_put(sem, 1);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  long n = test ? 10000 : 100000;
  weft_wg_t *wg;
  if (weft_sem_make(LIMIT, &sem) != 0 || weft_wg_make(&wg) != 0) return 1;
  int64_t start = weft_now_ns();
  for (long i = 0; i < n; i++) {
    if (weft_sem_acquire(sem, 1) != 0) return 1; /* wait for a free slot */
    if (weft_wg_go(wg, job, NULL) != 0) return 1;
  }
  weft_wg_wait(wg);
  double ms = (double)(weft_now_ns() - start) / 1e6;
  printf("%ld jobs in %.1f ms, max in flight %d (limit %d)\n", atomic_load(&done_jobs), ms,
         atomic_load(&max_in_flight), LIMIT);
  int rc = atomic_load(&done_jobs) == n && atomic_load(&max_in_flight) <= LIMIT &&
                   weft_sem_try_acquire(sem, LIMIT) == 0
               ? 0
               : 1;
  weft_sem_release(sem);
  weft_wg_release(wg);
  return rc;
}
