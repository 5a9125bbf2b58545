/* Helpers for the sync C tests: run a body concurrently in tasks and plain
 * threads, wait for them without the primitive under test, sleep, spin. */
#ifndef WEFT_TEST_SYNC_UTIL_H
#define WEFT_TEST_SYNC_UTIL_H

#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define MS (1000000LL)

typedef struct runner {
  weft_fn fn;
  void *arg;
  atomic_int *left;
} runner;

static inline void runner_task(void *raw) {
  runner *r = raw;
  r->fn(r->arg);
  atomic_fetch_sub(r->left, 1);
  free(r);
}

static inline void *runner_thread(void *raw) {
  runner_task(raw);
  return NULL;
}

static inline void sleep_ms_thread(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits (from a plain thread or a task) until *left is 0, failing after 30 s. */
static inline void wait_zero(atomic_int *left) {
  int64_t until = weft_now_ns() + (getenv("WAIT_ZERO_S") ? atoll(getenv("WAIT_ZERO_S")) : 30) * 1000 * MS;
  while (atomic_load(left) > 0) {
    if (weft_now_ns() > until) {
      fprintf(stderr, "wait_zero: %d still running after 30 s\n", atomic_load(left));
      weft_dump_tasks(2);
      weft_stats st = {.size = sizeof st};
      if (weft_stats_get(&st) == 0) {
        fprintf(stderr, "stats: live %llu parked %llu switches %llu timers %llu runq %u %u\n",
                (unsigned long long)st.tasks_live, (unsigned long long)st.tasks_parked,
                (unsigned long long)st.switches, (unsigned long long)st.timers_pending,
                st.runq_len[0], st.runq_len[1]);
      }
      exit(1);
    }
    if (weft_in_task()) weft_sleep_ns(100000);
    else sleep_ms_thread(1);
  }
}

/* Runs fn(arg) in `tasks` tasks and `threads` plain threads at once, waits for
 * all of them (without any sync primitive of the library). */
static inline void run_mixed(int tasks, int threads, weft_fn fn, void *arg) {
  atomic_int left = tasks + threads;
  pthread_t *ids = calloc((size_t)threads + 1, sizeof(pthread_t));
  int most = tasks > threads ? tasks : threads;
  for (int i = 0; i < most; i++) { /* interleaved: task, thread, task, ... */
    for (int kind = 0; kind < 2; kind++) {
      if ((kind == 0 && i >= tasks) || (kind == 1 && i >= threads)) continue;
      runner *r = malloc(sizeof *r);
      CHECK(r != NULL);
      r->fn = fn;
      r->arg = arg;
      r->left = &left;
      if (kind == 0) CHECK_OK(weft_go(runner_task, r));
      else CHECK(pthread_create(&ids[i], NULL, runner_thread, r) == 0);
    }
  }
  wait_zero(&left);
  for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
  free(ids);
}

/* Runs fn(arg) in one task and waits for it from this thread. */
static inline void run_in_task(weft_fn fn, void *arg) { run_mixed(1, 0, fn, arg); }

/* Sleeps in a task or on a thread. */
static inline void nap_ms(int ms) {
  if (weft_in_task()) CHECK_OK(weft_sleep_ns((int64_t)ms * MS));
  else sleep_ms_thread(ms);
}

#endif
