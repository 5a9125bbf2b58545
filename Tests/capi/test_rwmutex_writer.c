/* RWMutex writer preference: a waiting writer holds back new readers; a writer
 * that times out lets the readers queued behind it in at once; a writer's
 * unlock lets the queued readers in before the next writer. Writers and
 * readers in tasks and in threads. */
#include "sync_util.h"

static weft_rwmutex_t *rw;
static atomic_int writer_state; /* 0 waiting, 1 holds, 2 done */
static atomic_int readers_in;
static int writer_in_task;

static void blocking_writer(void *raw) {
  (void)raw;
  CHECK_OK(weft_rwmutex_lock(rw));
  atomic_store(&writer_state, 1);
  nap_ms(5);
  atomic_store(&writer_state, 2);
  CHECK_OK(weft_rwmutex_unlock(rw));
}

static void timing_out_writer(void *raw) {
  (void)raw;
  CHECK_CODE(weft_rwmutex_lock_until(rw, weft_now_ns() + 40 * MS), WEFT_ETIMEDOUT);
  atomic_store(&writer_state, 2);
}

static void late_reader(void *raw) {
  (void)raw;
  CHECK_OK(weft_rwmutex_rlock(rw));
  atomic_fetch_add(&readers_in, 1);
  CHECK_OK(weft_rwmutex_runlock(rw));
}

/* Waits until a writer is queued: new readers are refused from then on. */
static void wait_writer_queued(void) {
  int64_t until = weft_now_ns() + 5000 * MS;
  while (weft_rwmutex_try_rlock(rw) == 0) {
    CHECK_OK(weft_rwmutex_runlock(rw));
    CHECK(weft_now_ns() < until);
    sleep_ms_thread(1);
  }
}

static void spawn(weft_fn fn, int in_task, atomic_int *left, pthread_t *thread) {
  runner *r = malloc(sizeof *r);
  *r = (runner){fn, NULL, left};
  atomic_fetch_add(left, 1);
  if (in_task) CHECK_OK(weft_go(runner_task, r));
  else CHECK(pthread_create(thread, NULL, runner_thread, r) == 0);
}

static void scenario(int in_task) {
  atomic_int left = 0;
  pthread_t threads[8];
  int nthreads = 0;

  /* 1. A reader holds; a writer waits; new readers are refused until it ran. */
  atomic_store(&writer_state, 0);
  CHECK_OK(weft_rwmutex_rlock(rw));
  spawn(blocking_writer, in_task, &left, &threads[nthreads]);
  nthreads += !in_task;
  wait_writer_queued();
  CHECK_CODE(weft_rwmutex_try_rlock(rw), WEFT_EAGAIN);
  CHECK_CODE(weft_rwmutex_rlock_until(rw, weft_now_ns() + 10 * MS), WEFT_ETIMEDOUT);
  CHECK(atomic_load(&writer_state) == 0);
  CHECK_OK(weft_rwmutex_runlock(rw)); /* the last reader hands over to the writer */
  CHECK_OK(weft_rwmutex_rlock(rw));   /* waits for the writer to finish */
  CHECK(atomic_load(&writer_state) == 2);
  CHECK_OK(weft_rwmutex_runlock(rw));
  wait_zero(&left);

  /* 2. A writer queued behind a reader times out: the readers queued behind
   *    the writer get in at once, while the first reader still holds. */
  atomic_store(&writer_state, 0);
  atomic_store(&readers_in, 0);
  CHECK_OK(weft_rwmutex_rlock(rw));
  spawn(timing_out_writer, in_task, &left, &threads[nthreads]);
  nthreads += !in_task;
  wait_writer_queued();
  for (int i = 0; i < 4; i++) {
    spawn(late_reader, i % 2 == 0, &left, &threads[nthreads]);
    nthreads += !(i % 2 == 0);
  }
  sleep_ms_thread(10);
  CHECK(atomic_load(&readers_in) == 0); /* held back by the waiting writer */
  int64_t until = weft_now_ns() + 5000 * MS;
  while (atomic_load(&readers_in) < 4) {
    CHECK(weft_now_ns() < until);
    sleep_ms_thread(1);
  }
  CHECK(atomic_load(&writer_state) == 2);
  CHECK_OK(weft_rwmutex_runlock(rw));
  wait_zero(&left);

  /* 3. Writer unlock: queued readers go before the next queued writer. */
  atomic_store(&writer_state, 0);
  atomic_store(&readers_in, 0);
  CHECK_OK(weft_rwmutex_lock(rw));
  for (int i = 0; i < 3; i++) {
    spawn(late_reader, in_task, &left, &threads[nthreads]);
    nthreads += !in_task;
  }
  sleep_ms_thread(10);
  spawn(blocking_writer, in_task, &left, &threads[nthreads]);
  nthreads += !in_task;
  sleep_ms_thread(10);
  CHECK(atomic_load(&readers_in) == 0);
  CHECK_OK(weft_rwmutex_unlock(rw));
  wait_zero(&left);
  CHECK(atomic_load(&readers_in) == 3);
  CHECK(atomic_load(&writer_state) == 2);
  for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);
  CHECK_OK(weft_rwmutex_try_lock(rw));
  CHECK_OK(weft_rwmutex_unlock(rw));
}

int main(void) {
  CHECK_OK(weft_rwmutex_make(&rw));
  writer_in_task = 1;
  scenario(1);
  scenario(0);
  CHECK_OK(weft_rwmutex_release(rw));
  printf("rwmutex writer preference ok\n");
  return 0;
}
