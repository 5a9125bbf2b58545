/* A shared counter under a Mutex: tasks and a plain thread increment one plain
 * (non-atomic) long; the mutex makes the total exact.
 *   usage: sync_counter [--test]     (--test: a short run that checks itself) */
#include "weft.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static weft_mutex_t *mu;
static long counter; /* guarded by mu */
static long per_worker;

static void work(void *arg) {
  (void)arg;
  for (long i = 0; i < per_worker; i++) {
    weft_mutex_lock(mu);
    counter++;
    weft_mutex_unlock(mu);
  }
}

static void *thread_main(void *arg) {
  work(arg);
  return NULL;
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  int tasks = 8;
  per_worker = test ? 20000 : 1000000;
  weft_wg_t *wg;
  if (weft_mutex_make(&mu) != 0 || weft_wg_make(&wg) != 0) return 1;

  int64_t start = weft_now_ns();
  for (int i = 0; i < tasks; i++) weft_wg_go(wg, work, NULL);
  pthread_t thread; /* a plain thread shares the same mutex */
  pthread_create(&thread, NULL, thread_main, NULL);
  weft_wg_wait(wg);
  pthread_join(thread, NULL);
  double ms = (double)(weft_now_ns() - start) / 1e6;

  long want = (long)(tasks + 1) * per_worker;
  printf("counter = %ld (want %ld), %.1f ms, %.1f ns per lock/unlock\n", counter, want, ms,
         ms * 1e6 / (double)want);
  int rc = weft_mutex_unlock(mu) == WEFT_EPERM && counter == want ? 0 : 1;
  weft_mutex_release(mu);
  weft_wg_release(wg);
  return rc;
}
