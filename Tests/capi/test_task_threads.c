/* Tasks started from several plain threads at once, each thread also sleeping
 * and yielding through the runtime. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 8
#define PER_THREAD 20000

static atomic_long done;

static void body(void *arg) {
  (void)arg;
  if (atomic_fetch_add(&done, 1) % 97 == 0) weft_yield();
}

static void *starter(void *arg) {
  (void)arg;
  for (int i = 0; i < PER_THREAD; i++) {
    CHECK_OK(weft_go(body, NULL));
    if (i % 5000 == 0) CHECK_OK(weft_sleep_ns(100000));
  }
  return NULL;
}

int main(void) {
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, starter, NULL) == 0);
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  int64_t deadline = weft_now_ns() + 30LL * 1000000000;
  while (atomic_load(&done) < THREADS * PER_THREAD) {
    CHECK(weft_now_ns() < deadline);
    weft_sleep_ns(1000000);
  }
  CHECK_OK(weft_shutdown());
  return 0;
}
