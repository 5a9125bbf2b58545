/* RWMutex: Go's HammerRWMutex (readers share, writers exclude, checked by an
 * activity counter) from tasks, threads and both, with the try_ and deadline
 * forms mixed in; parallel readers; misuse (WEFT_EPERM, WEFT_EINVAL,
 * WEFT_EAGAIN, WEFT_ETIMEDOUT). */
#include "sync_util.h"

static weft_rwmutex_t *rw;
static atomic_int activity;
static atomic_int holding;
static int parallel_n;

enum { LOOPS = 3000 };

static void reader(int i) {
  if (i % 5 == 0) {
    if (weft_rwmutex_try_rlock(rw) != 0) CHECK_OK(weft_rwmutex_rlock_until(rw, WEFT_NO_DEADLINE));
  } else if (i % 5 == 1) {
    CHECK_OK(weft_rwmutex_rlock_ctx(rw, NULL));
  } else {
    CHECK_OK(weft_rwmutex_rlock(rw));
  }
  int n = atomic_fetch_add(&activity, 1) + 1;
  CHECK(n >= 1 && n < 10000);
  for (int k = 0; k < 20; k++) __asm__ volatile("" ::: "memory");
  atomic_fetch_sub(&activity, 1);
  CHECK_OK(weft_rwmutex_runlock(rw));
}

static void writer(int i) {
  if (i % 3 == 0) {
    if (weft_rwmutex_try_lock(rw) != 0) CHECK_OK(weft_rwmutex_lock_ctx(rw, NULL));
  } else {
    CHECK_OK(weft_rwmutex_lock(rw));
  }
  int n = atomic_fetch_add(&activity, 10000) + 10000;
  CHECK(n == 10000);
  atomic_fetch_sub(&activity, 10000);
  CHECK_OK(weft_rwmutex_unlock(rw));
}

static void hammer(void *raw) {
  (void)raw;
  for (int i = 0; i < LOOPS; i++) {
    if (i % 10 == 0) writer(i);
    else reader(i);
    if (i % 256 == 0) weft_yield();
  }
}

static void parallel_reader(void *raw) {
  (void)raw;
  CHECK_OK(weft_rwmutex_rlock(rw));
  atomic_fetch_add(&holding, 1);
  int64_t until = weft_now_ns() + 10000 * MS;
  while (atomic_load(&holding) < parallel_n) { /* all readers hold it at once */
    CHECK(weft_now_ns() < until);
    nap_ms(1);
  }
  CHECK_OK(weft_rwmutex_runlock(rw));
}

static void timed_while_written(void *raw) {
  (void)raw;
  CHECK_CODE(weft_rwmutex_try_rlock(rw), WEFT_EAGAIN);
  CHECK_CODE(weft_rwmutex_try_lock(rw), WEFT_EAGAIN);
  CHECK_CODE(weft_rwmutex_rlock_until(rw, weft_now_ns() + 5 * MS), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_rwmutex_lock_until(rw, weft_now_ns() + 5 * MS), WEFT_ETIMEDOUT);
}

static void timed_while_read(void *raw) {
  (void)raw;
  CHECK_CODE(weft_rwmutex_try_lock(rw), WEFT_EAGAIN);
  CHECK_CODE(weft_rwmutex_lock_until(rw, weft_now_ns() + 5 * MS), WEFT_ETIMEDOUT);
  /* The timed-out writer no longer holds readers back. */
  CHECK_OK(weft_rwmutex_try_rlock(rw));
  CHECK_OK(weft_rwmutex_runlock(rw));
}

int main(void) {
  CHECK_CODE(weft_rwmutex_make(NULL), WEFT_EINVAL);
  CHECK_OK(weft_rwmutex_make(&rw));

  /* Misuse and codes. */
  CHECK_CODE(weft_rwmutex_runlock(rw), WEFT_EPERM);
  CHECK_CODE(weft_rwmutex_unlock(rw), WEFT_EPERM);
  CHECK_OK(weft_rwmutex_rlock(rw));
  CHECK_CODE(weft_rwmutex_unlock(rw), WEFT_EPERM); /* read-locked, not written */
  CHECK_OK(weft_rwmutex_try_rlock(rw));
  run_in_task(timed_while_read, NULL); /* one writer at a time: a second queued 
                                          writer would still hold readers back */
  timed_while_read(NULL);
  CHECK_OK(weft_rwmutex_runlock(rw));
  CHECK_OK(weft_rwmutex_runlock(rw));
  CHECK_CODE(weft_rwmutex_runlock(rw), WEFT_EPERM);
  CHECK_OK(weft_rwmutex_lock(rw));
  CHECK_CODE(weft_rwmutex_runlock(rw), WEFT_EPERM); /* written, not read */
  run_mixed(1, 1, timed_while_written, NULL);
  CHECK_OK(weft_rwmutex_unlock(rw));
  CHECK_CODE(weft_rwmutex_unlock(rw), WEFT_EPERM);
  CHECK_OK(weft_rwmutex_lock_until(rw, 0)); /* free: taken despite the past deadline */
  CHECK_OK(weft_rwmutex_unlock(rw));
  CHECK_OK(weft_rwmutex_rlock_until(rw, 0));
  CHECK_OK(weft_rwmutex_runlock(rw));

  CHECK_CODE(weft_rwmutex_rlock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_try_rlock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_rlock_until(NULL, 0), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_rlock_ctx(NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_runlock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_lock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_try_lock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_lock_until(NULL, 0), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_lock_ctx(NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_unlock(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_rwmutex_release(NULL), WEFT_EINVAL);
  CHECK(weft_rwmutex_retain(NULL) == NULL);

  /* Go's TestParallelReaders: every reader holds the lock at the same time. */
  parallel_n = 8;
  atomic_store(&holding, 0);
  run_mixed(6, 2, parallel_reader, NULL);

  /* Go's TestRWMutex / HammerRWMutex. */
  run_mixed(8, 0, hammer, NULL);
  run_mixed(0, 4, hammer, NULL);
  run_mixed(6, 3, hammer, NULL);
  CHECK(atomic_load(&activity) == 0);
  CHECK_OK(weft_rwmutex_try_lock(rw)); /* nothing left held */
  CHECK_OK(weft_rwmutex_unlock(rw));

  CHECK(weft_rwmutex_retain(rw) == rw);
  CHECK_OK(weft_rwmutex_release(rw));
  CHECK_OK(weft_rwmutex_release(rw));
  printf("rwmutex ok\n");
  return 0;
}
