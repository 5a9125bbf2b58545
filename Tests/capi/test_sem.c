/* Weighted semaphore basics: x/sync's TestWeighted (random weights, the units
 * in use never exceed the capacity) from tasks, threads and both; misuse:
 * capacity <= 0, n > capacity (WEFT_EINVAL at once), over-release
 * (WEFT_ERANGE, nothing changes), try_acquire WEFT_EAGAIN, deadline forms
 * WEFT_ETIMEDOUT, NULL handles WEFT_EINVAL. */
#include "sync_util.h"

enum { CAP = 10 };
static weft_sem_t *sem;
static atomic_int in_use;

static void hammer(void *raw) {
  unsigned seed = (unsigned)(uintptr_t)raw ^ (unsigned)weft_now_ns();
  for (int i = 0; i < 3000; i++) {
    int n = (int)(rand_r(&seed) % CAP) + 1;
    switch (i % 4) {
    case 0:
      if (weft_sem_try_acquire(sem, n) != 0) CHECK_OK(weft_sem_acquire(sem, n));
      break;
    case 1:
      CHECK_OK(weft_sem_acquire_ctx(sem, n, NULL));
      break;
    case 2:
      CHECK_OK(weft_sem_acquire_until(sem, n, WEFT_NO_DEADLINE));
      break;
    default:
      CHECK_OK(weft_sem_acquire(sem, n));
    }
    int now = atomic_fetch_add(&in_use, n) + n;
    CHECK(now <= CAP);
    if (i % 128 == 0) weft_yield();
    atomic_fetch_sub(&in_use, n);
    CHECK_OK(weft_sem_put(sem, n));
  }
}

static void timed(void *raw) {
  (void)raw;
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_sem_acquire_until(sem, 1, start + 10 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - start >= 10 * MS);
  CHECK_CODE(weft_sem_acquire_until(sem, 1, 0), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_sem_try_acquire(sem, 1), WEFT_EAGAIN);
}

int main(void) {
  CHECK_CODE(weft_sem_make(0, &sem), WEFT_EINVAL);
  CHECK_CODE(weft_sem_make(-5, &sem), WEFT_EINVAL);
  CHECK_CODE(weft_sem_make(CAP, NULL), WEFT_EINVAL);
  CHECK_OK(weft_sem_make(CAP, &sem));

  /* Misuse. */
  CHECK_CODE(weft_sem_acquire(sem, CAP + 1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_acquire_until(sem, CAP + 1, WEFT_NO_DEADLINE), WEFT_EINVAL);
  CHECK_CODE(weft_sem_acquire_ctx(sem, CAP + 1, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_sem_try_acquire(sem, CAP + 1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_acquire(sem, -1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_put(sem, -1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_put(sem, 1), WEFT_ERANGE); /* nothing held */
  CHECK_OK(weft_sem_acquire(sem, 3));
  CHECK_CODE(weft_sem_put(sem, 4), WEFT_ERANGE); /* over-release: nothing changes */
  CHECK_OK(weft_sem_try_acquire(sem, 7));        /* so 7 were still free */
  CHECK_CODE(weft_sem_try_acquire(sem, 1), WEFT_EAGAIN);
  timed(NULL);
  run_in_task(timed, NULL);
  CHECK_OK(weft_sem_put(sem, 10));
  CHECK_CODE(weft_sem_put(sem, 1), WEFT_ERANGE);
  CHECK_OK(weft_sem_acquire(sem, 0));
  CHECK_OK(weft_sem_acquire_until(sem, CAP, 0)); /* free: taken despite the past deadline */
  CHECK_OK(weft_sem_put(sem, CAP));

  CHECK_CODE(weft_sem_acquire(NULL, 1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_try_acquire(NULL, 1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_acquire_until(NULL, 1, 0), WEFT_EINVAL);
  CHECK_CODE(weft_sem_acquire_ctx(NULL, 1, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_sem_put(NULL, 1), WEFT_EINVAL);
  CHECK_CODE(weft_sem_release(NULL), WEFT_EINVAL);
  CHECK(weft_sem_retain(NULL) == NULL);

  /* TestWeighted. */
  run_mixed(8, 0, hammer, NULL);
  run_mixed(0, 4, hammer, NULL);
  run_mixed(6, 3, hammer, NULL);
  CHECK(atomic_load(&in_use) == 0);
  CHECK_OK(weft_sem_try_acquire(sem, CAP)); /* everything came back */
  CHECK_OK(weft_sem_put(sem, CAP));

  CHECK(weft_sem_retain(sem) == sem);
  CHECK_OK(weft_sem_release(sem));
  CHECK_OK(weft_sem_release(sem));
  printf("sem ok\n");
  return 0;
}
