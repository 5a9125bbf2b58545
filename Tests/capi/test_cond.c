/* Cond: Go's TestCondSignal (one signal wakes exactly one waiter) and
 * TestCondBroadcast (wakes all), waiters in tasks and threads; a predicate
 * loop (producer/consumer); wait without the mutex is WEFT_EPERM; the deadline
 * form times out with the mutex locked again; NULL handles WEFT_EINVAL. */
#include "sync_util.h"

static weft_mutex_t *mu;
static weft_cond_t *cond;
static int running; /* guarded by mu */
static atomic_int awake;

static void sleeper(void *raw) {
  (void)raw;
  CHECK_OK(weft_mutex_lock(mu));
  running++;
  CHECK_OK(weft_cond_wait(cond));
  atomic_fetch_add(&awake, 1);
  CHECK_OK(weft_mutex_unlock(mu));
}

static void wait_running(int n) {
  int64_t until = weft_now_ns() + 5000 * MS;
  for (;;) {
    CHECK_OK(weft_mutex_lock(mu));
    int r = running;
    CHECK_OK(weft_mutex_unlock(mu));
    if (r == n) return;
    CHECK(weft_now_ns() < until);
    sleep_ms_thread(1);
  }
}

static void wait_awake(int n) {
  int64_t until = weft_now_ns() + 5000 * MS;
  while (atomic_load(&awake) < n) {
    CHECK(weft_now_ns() < until);
    sleep_ms_thread(1);
  }
}

static void start_sleepers(int n, atomic_int *left, pthread_t *threads, int *nthreads) {
  for (int i = 0; i < n; i++) {
    runner *r = malloc(sizeof *r);
    *r = (runner){sleeper, NULL, left};
    atomic_fetch_add(left, 1);
    if (i % 3 == 2) CHECK(pthread_create(&threads[(*nthreads)++], NULL, runner_thread, r) == 0);
    else CHECK_OK(weft_go(runner_task, r));
  }
}

/* Producer/consumer over a one-slot buffer with the predicate loop. */
static int slot_full, slot_value;
static long consumed_sum;

static void producer(void *raw) {
  (void)raw;
  for (int i = 1; i <= 2000; i++) {
    CHECK_OK(weft_mutex_lock(mu));
    while (slot_full) CHECK_OK(weft_cond_wait(cond));
    slot_full = 1;
    slot_value = i;
    CHECK_OK(weft_cond_broadcast(cond));
    CHECK_OK(weft_mutex_unlock(mu));
  }
}

static void consumer(void *raw) {
  (void)raw;
  for (int i = 1; i <= 2000; i++) {
    CHECK_OK(weft_mutex_lock(mu));
    while (!slot_full) CHECK_OK(weft_cond_wait(cond));
    consumed_sum += slot_value;
    slot_full = 0;
    CHECK_OK(weft_cond_broadcast(cond));
    CHECK_OK(weft_mutex_unlock(mu));
  }
}

static void timed(void *raw) {
  (void)raw;
  CHECK_CODE(weft_cond_wait(cond), WEFT_EPERM); /* mutex not locked */
  CHECK_OK(weft_mutex_lock(mu));
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_cond_wait_until(cond, start + 10 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - start >= 10 * MS);
  CHECK_CODE(weft_mutex_try_lock(mu), WEFT_EAGAIN); /* locked again */
  CHECK_CODE(weft_cond_wait_until(cond, 0), WEFT_ETIMEDOUT);
  CHECK_OK(weft_mutex_unlock(mu));
}

int main(void) {
  CHECK_OK(weft_mutex_make(&mu));
  CHECK_CODE(weft_cond_make(NULL, &cond), WEFT_EINVAL);
  CHECK_CODE(weft_cond_make(mu, NULL), WEFT_EINVAL);
  CHECK_OK(weft_cond_make(mu, &cond));

  /* TestCondSignal: n sleepers; each signal wakes exactly one. */
  enum { N = 6 };
  atomic_int left = 0;
  pthread_t threads[16];
  int nthreads = 0;
  start_sleepers(N, &left, threads, &nthreads);
  wait_running(N);
  for (int n = 0; n < N; n++) {
    CHECK(atomic_load(&awake) == n); /* nobody woke on its own */
    CHECK_OK(weft_mutex_lock(mu));
    CHECK_OK(weft_cond_signal(cond));
    CHECK_OK(weft_mutex_unlock(mu));
    wait_awake(n + 1);
    sleep_ms_thread(5);
    CHECK(atomic_load(&awake) == n + 1); /* exactly one */
  }
  CHECK_OK(weft_cond_signal(cond)); /* no waiters: a no-op */
  wait_zero(&left);

  /* TestCondBroadcast: all sleepers wake, in two rounds. */
  for (int round = 0; round < 2; round++) {
    running = 0;
    atomic_store(&awake, 0);
    start_sleepers(9, &left, threads, &nthreads);
    wait_running(9);
    sleep_ms_thread(5);
    CHECK(atomic_load(&awake) == 0);
    CHECK_OK(weft_cond_broadcast(cond)); /* without the mutex held: allowed */
    wait_awake(9);
    wait_zero(&left);
  }
  for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);

  /* Producer/consumer: task/task, thread/task, task/thread. */
  for (int round = 0; round < 3; round++) {
    consumed_sum = 0;
    slot_full = 0;
    atomic_int pc = 2;
    runner *p = malloc(sizeof *p), *c = malloc(sizeof *c);
    *p = (runner){producer, NULL, &pc};
    *c = (runner){consumer, NULL, &pc};
    pthread_t t;
    if (round == 1) CHECK(pthread_create(&t, NULL, runner_thread, p) == 0);
    else CHECK_OK(weft_go(runner_task, p));
    if (round == 2) CHECK(pthread_create(&t, NULL, runner_thread, c) == 0);
    else CHECK_OK(weft_go(runner_task, c));
    wait_zero(&pc);
    if (round) pthread_join(t, NULL);
    CHECK(consumed_sum == 2000L * 2001 / 2);
  }

  /* Misuse and deadlines, thread and task. */
  timed(NULL);
  run_in_task(timed, NULL);
  CHECK_OK(weft_mutex_lock(mu));
  CHECK_CODE(weft_cond_wait_until(cond, weft_now_ns() + 2 * MS), WEFT_ETIMEDOUT);
  CHECK_OK(weft_mutex_unlock(mu));
  CHECK_CODE(weft_cond_wait_ctx(cond, NULL), WEFT_EPERM);

  CHECK_CODE(weft_cond_wait(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_cond_wait_until(NULL, 0), WEFT_EINVAL);
  CHECK_CODE(weft_cond_wait_ctx(NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_cond_signal(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_cond_broadcast(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_cond_release(NULL), WEFT_EINVAL);
  CHECK(weft_cond_retain(NULL) == NULL);

  /* The cond keeps its mutex alive: the released handle is refused, the cond
   * still reaches the mutex (not locked: EPERM). */
  CHECK_OK(weft_mutex_release(mu));
  CHECK_CODE(weft_mutex_lock(mu), WEFT_EINVAL);
  CHECK_CODE(weft_cond_wait_until(cond, weft_now_ns() + MS), WEFT_EPERM);
  CHECK_OK(weft_cond_signal(cond));
  CHECK(weft_cond_retain(cond) == cond);
  CHECK_OK(weft_cond_release(cond));
  CHECK_OK(weft_cond_release(cond));
  printf("cond ok\n");
  return 0;
}
