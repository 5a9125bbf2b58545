/* Go's TestMutexFairness: one side holds the mutex for 100 us at a time and
 * re-locks at once; the other must still get it 10 times within seconds
 * (starvation mode: a waiter blocked > 1 ms gets the lock handed over). Tasks vs
 * task, thread vs task, task vs thread. */
#include "sync_util.h"

static weft_mutex_t *mu;
static atomic_int stop;

static void hog(void *raw) {
  (void)raw;
  while (!atomic_load(&stop)) {
    CHECK_OK(weft_mutex_lock(mu));
    if (weft_in_task()) CHECK_OK(weft_sleep_ns(100000));
    else {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
    CHECK_OK(weft_mutex_unlock(mu));
  }
}

static void victim(void *raw) {
  (void)raw;
  int64_t start = weft_now_ns();
  for (int i = 0; i < 10; i++) {
    if (weft_in_task()) CHECK_OK(weft_sleep_ns(100000));
    else {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
    CHECK_OK(weft_mutex_lock(mu));
    CHECK_OK(weft_mutex_unlock(mu));
  }
  int64_t took = weft_now_ns() - start;
  printf("victim: 10 acquisitions in %.1f ms\n", took / 1e6);
  CHECK(took < 5000 * MS);
}

static void *hog_thread(void *raw) {
  hog(raw);
  return NULL;
}

static void scenario(int hog_in_task, int victim_in_task) {
  atomic_store(&stop, 0);
  atomic_int hog_left = 1;
  pthread_t hog_id;
  runner *r = malloc(sizeof *r);
  *r = (runner){hog, NULL, &hog_left};
  if (hog_in_task) CHECK_OK(weft_go(runner_task, r));
  else CHECK(pthread_create(&hog_id, NULL, runner_thread, r) == 0);
  if (victim_in_task) run_in_task(victim, NULL);
  else victim(NULL);
  atomic_store(&stop, 1);
  wait_zero(&hog_left);
  if (!hog_in_task) pthread_join(hog_id, NULL);
  (void)hog_thread;
}

int main(void) {
  CHECK_OK(weft_mutex_make(&mu));
  scenario(1, 1);
  scenario(0, 1);
  scenario(1, 0);
  scenario(0, 0);
  CHECK_CODE(weft_mutex_unlock(mu), WEFT_EPERM);
  CHECK_OK(weft_mutex_release(mu));
  printf("mutex fairness ok\n");
  return 0;
}
