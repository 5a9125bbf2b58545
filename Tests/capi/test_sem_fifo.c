/* Weighted semaphore ordering, after x/sync/semaphore's tests: waiters are
 * served FIFO; a large request at the head is not starved by small ones
 * (TestLargeAcquireDoesntStarve); a deadline expiring while waiting takes
 * nothing and unblocks those queued behind it (TestAllocCancelDoesntStarve);
 * acquire > capacity fails at once even with waiters queued. */
#include "sync_util.h"

static weft_sem_t *sem;

/* Waits until somebody is queued: try_acquire fails even with units free. */
static void wait_queued(void) {
  int64_t until = weft_now_ns() + 5000 * MS;
  while (weft_sem_try_acquire(sem, 1) == 0) {
    CHECK_OK(weft_sem_put(sem, 1));
    CHECK(weft_now_ns() < until);
    sleep_ms_thread(1);
  }
}

/* FIFO: waiter i records its turn. */
static atomic_int order[16];
static atomic_int turn, started;
static void fifo_waiter(void *raw) {
  int id = (int)(intptr_t)raw;
  atomic_fetch_add(&started, 1);
  CHECK_OK(weft_sem_acquire(sem, 1));
  order[atomic_fetch_add(&turn, 1)] = id;
  CHECK_OK(weft_sem_put(sem, 1));
}

static atomic_int running;
static void small_worker(void *raw) {
  (void)raw;
  while (atomic_load(&running)) {
    nap_ms(1);
    CHECK_OK(weft_sem_put(sem, 1));
    CHECK_OK(weft_sem_acquire(sem, 1));
  }
  CHECK_OK(weft_sem_put(sem, 1));
}

static atomic_int big_result = 1;
static void big_timed(void *raw) {
  (void)raw;
  atomic_store(&big_result, weft_sem_acquire_until(sem, 10, weft_now_ns() + 30 * MS));
}

static atomic_int small_done;
static void small_behind(void *raw) {
  (void)raw;
  CHECK_OK(weft_sem_acquire(sem, 1));
  atomic_fetch_add(&small_done, 1);
  CHECK_OK(weft_sem_put(sem, 1));
}

static void spawn(weft_fn fn, void *arg, int in_task, atomic_int *left, pthread_t *t) {
  runner *r = malloc(sizeof *r);
  *r = (runner){fn, arg, left};
  atomic_fetch_add(left, 1);
  if (in_task) CHECK_OK(weft_go(runner_task, r));
  else CHECK(pthread_create(t, NULL, runner_thread, r) == 0);
}

static void scenario(int in_task) {
  atomic_int left = 0;
  pthread_t threads[16];

  /* FIFO with capacity 1: ten waiters queued one after another. */
  CHECK_OK(weft_sem_make(1, &sem));
  CHECK_OK(weft_sem_acquire(sem, 1));
  atomic_store(&turn, 0);
  atomic_store(&started, 0);
  for (int i = 0; i < 10; i++) {
    spawn(fifo_waiter, (void *)(intptr_t)i, in_task, &left, &threads[i]);
    /* let waiter i queue before i+1: it has started, then a little more */
    int64_t until = weft_now_ns() + 5000 * MS;
    while (atomic_load(&started) < i + 1) {
      CHECK(weft_now_ns() < until);
      sleep_ms_thread(1);
    }
    sleep_ms_thread(2);
  }
  CHECK_OK(weft_sem_put(sem, 1));
  wait_zero(&left);
  for (int i = 0; i < 10; i++) {
    if (order[i] != i) {
      fprintf(stderr, "FIFO broken (%s): turn %d went to waiter %d\n", in_task ? "tasks" : "threads", i, order[i]);
      exit(1);
    }
  }
  if (!in_task)
    for (int i = 0; i < 10; i++) pthread_join(threads[i], NULL);
  /* acquire > capacity fails at once even while others wait. */
  CHECK_CODE(weft_sem_acquire(sem, 2), WEFT_EINVAL);
  CHECK_OK(weft_sem_release(sem));

  /* A large request among busy small ones is not starved. */
  enum { N = 4 };
  CHECK_OK(weft_sem_make(N, &sem));
  atomic_store(&running, 1);
  for (int i = 0; i < N; i++) {
    CHECK_OK(weft_sem_acquire(sem, 1));
    spawn(small_worker, NULL, in_task ? 1 : i % 2, &left, &threads[i]);
  }
  int64_t start = weft_now_ns();
  CHECK_OK(weft_sem_acquire_until(sem, N, start + 5000 * MS));
  atomic_store(&running, 0);
  CHECK_OK(weft_sem_put(sem, N));
  wait_zero(&left);
  if (!in_task)
    for (int i = 0; i < N; i += 2) pthread_join(threads[i], NULL); /* even: threads */
  CHECK_OK(weft_sem_try_acquire(sem, N));
  CHECK_OK(weft_sem_release(sem));

  /* A deadline expiring at the head: takes nothing, lets the queue move. */
  CHECK_OK(weft_sem_make(10, &sem));
  CHECK_OK(weft_sem_acquire(sem, 1));
  atomic_store(&small_done, 0);
  spawn(big_timed, NULL, in_task, &left, &threads[0]);
  wait_queued();
  for (int i = 0; i < 3; i++) spawn(small_behind, NULL, 1, &left, NULL);
  sleep_ms_thread(5);
  CHECK(atomic_load(&small_done) == 0); /* FIFO: behind the big request */
  wait_zero(&left);                     /* all finish though the 1 is still held */
  CHECK(atomic_load(&big_result) == WEFT_ETIMEDOUT);
  CHECK(atomic_load(&small_done) == 3);
  if (!in_task) pthread_join(threads[0], NULL);
  CHECK_OK(weft_sem_try_acquire(sem, 9)); /* the timed-out request took nothing */
  CHECK_OK(weft_sem_put(sem, 10));
  CHECK_CODE(weft_sem_put(sem, 1), WEFT_ERANGE);
  CHECK_OK(weft_sem_release(sem));
}

int main(void) {
  scenario(1);
  scenario(0);
  printf("sem fifo ok\n");
  return 0;
}
