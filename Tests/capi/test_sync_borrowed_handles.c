/* Go's idiom from C: tasks borrow the creator's handle (no reference of their
 * own), the creator waits, then releases at once. The last done(), unlock(),
 * put(), signal() may still be running inside the primitive when the woken
 * creator frees it: the primitive must keep itself alive until it returned. */
#include "check.h"

#include <pthread.h>

static void done_once(void *arg) { CHECK_OK(weft_wg_done(arg)); }

static void unlock_later(void *arg) {
  weft_yield();
  CHECK_OK(weft_mutex_unlock(arg));
}

static void put_later(void *arg) {
  weft_yield();
  CHECK_OK(weft_sem_put(arg, 1));
}

int main(void) {
  for (int round = 0; round < 3000; round++) {
    weft_wg_t *wg;
    CHECK_OK(weft_wg_make(&wg));
    CHECK_OK(weft_wg_add(wg, 4));
    for (int i = 0; i < 4; i++) CHECK_OK(weft_go(done_once, wg));
    CHECK_OK(weft_wg_wait(wg));
    CHECK_OK(weft_wg_release(wg)); /* tasks may still be inside done() */

    weft_mutex_t *mu;
    CHECK_OK(weft_mutex_make(&mu));
    CHECK_OK(weft_mutex_lock(mu));
    CHECK_OK(weft_go(unlock_later, mu)); /* unlocks on our behalf */
    CHECK_OK(weft_mutex_lock(mu));       /* handed over by the task's unlock */
    CHECK_OK(weft_mutex_unlock(mu));
    CHECK_OK(weft_mutex_release(mu));

    weft_sem_t *sem;
    CHECK_OK(weft_sem_make(1, &sem));
    CHECK_OK(weft_sem_acquire(sem, 1));
    CHECK_OK(weft_go(put_later, sem));
    CHECK_OK(weft_sem_acquire(sem, 1));
    CHECK_OK(weft_sem_release(sem));
  }
  weft_sleep_ns(20 * 1000000); /* let the last tasks finish */
  CHECK_OK(weft_shutdown());
  return 0;
}
