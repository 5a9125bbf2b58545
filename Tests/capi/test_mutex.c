/* Mutex: exclusion under contention from tasks, threads and both (Go's
 * TestMutex/HammerMutex, with try_lock and lock_until mixed in); unlock of an
 * unlocked mutex is WEFT_EPERM; try_lock WEFT_EAGAIN; deadline forms
 * WEFT_ETIMEDOUT; NULL handles WEFT_EINVAL; unlock from another task/thread. */
#include "sync_util.h"

static weft_mutex_t *mu;
static long counter;      /* guarded by mu, deliberately not atomic */
static atomic_int inside; /* checks exclusion directly */

enum { LOOPS = 20000 };

static void enter(void) {
  CHECK(atomic_fetch_add(&inside, 1) == 0);
  counter++;
  atomic_fetch_sub(&inside, 1);
}

static void hammer(void *raw) {
  (void)raw;
  for (int i = 0; i < LOOPS; i++) {
    switch (i % 8) {
    case 0:
      if (weft_mutex_try_lock(mu) != 0) {
        CHECK_OK(weft_mutex_lock(mu));
      }
      break;
    case 1:
      CHECK_OK(weft_mutex_lock_until(mu, WEFT_NO_DEADLINE));
      break;
    case 2:
      CHECK_OK(weft_mutex_lock_ctx(mu, NULL));
      break;
    default:
      CHECK_OK(weft_mutex_lock(mu));
    }
    enter();
    if (i % 512 == 0) weft_yield(); /* hold it across a switch now and then */
    CHECK_OK(weft_mutex_unlock(mu));
  }
}

static void timed(void *raw) {
  (void)raw;
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_mutex_lock_until(mu, start + 10 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - start >= 10 * MS);
  CHECK_CODE(weft_mutex_try_lock(mu), WEFT_EAGAIN);
  CHECK_CODE(weft_mutex_lock_until(mu, weft_now_ns() - 1), WEFT_ETIMEDOUT);
}

static void unlock_for_other(void *raw) {
  (void)raw;
  CHECK_OK(weft_mutex_unlock(mu)); /* Go allows unlock from another goroutine */
}

static void run(int tasks, int threads) {
  counter = 0;
  run_mixed(tasks, threads, hammer, NULL);
  CHECK(counter == (long)(tasks + threads) * LOOPS);
}

int main(void) {
  CHECK_CODE(weft_mutex_make(NULL), WEFT_EINVAL);
  CHECK_OK(weft_mutex_make(&mu));

  /* Misuse. */
  CHECK_CODE(weft_mutex_unlock(mu), WEFT_EPERM);
  CHECK_OK(weft_mutex_lock(mu));
  CHECK_CODE(weft_mutex_try_lock(mu), WEFT_EAGAIN);
  CHECK_OK(weft_mutex_unlock(mu));
  CHECK_CODE(weft_mutex_unlock(mu), WEFT_EPERM);
  CHECK_OK(weft_mutex_try_lock(mu));
  CHECK_OK(weft_mutex_unlock(mu));
  CHECK_CODE(weft_mutex_lock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_mutex_try_lock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_mutex_lock_until(NULL, 0), WEFT_EINVAL);
  CHECK_CODE(weft_mutex_lock_ctx(NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_mutex_unlock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_mutex_release(NULL), WEFT_EINVAL);
  CHECK(weft_mutex_retain(NULL) == NULL);

  /* A free lock is taken even with a deadline in the past. */
  CHECK_OK(weft_mutex_lock_until(mu, 0));
  /* Held: the deadline forms time out, from a thread, a task, and both. */
  timed(NULL);
  run_in_task(timed, NULL);
  run_mixed(3, 2, timed, NULL);
  /* Unlocked by a task other than the locker. */
  run_in_task(unlock_for_other, NULL);
  CHECK_CODE(weft_mutex_unlock(mu), WEFT_EPERM);

  /* Contention: tasks only, threads only, mixed. */
  run(8, 0);
  run(0, 4);
  run(8, 4);
  CHECK_CODE(weft_mutex_unlock(mu), WEFT_EPERM);

  CHECK(weft_mutex_retain(mu) == mu);
  CHECK_OK(weft_mutex_release(mu));
  CHECK_OK(weft_mutex_release(mu));
  printf("mutex ok\n");
  return 0;
}
