/* Stuck workers, timers: a ticker keeps ticking (each tick at most a few ms
 * late) beside a task blocked in sleep(1), beside one spinning for a second
 * without calling into the runtime, and while sleep(1) blocks every worker. The monitor hands the stuck workers'
 * timers and queues over (Runtime/Monitor.swift); without it the ticks stop for
 * the whole second. The target is 20 ms. A plain thread sleeping 5 ms
 * at a time beside it measures how late this (shared, loaded) machine wakes
 * threads anyway; the check allows that plus 150 ms (a stalled ticker is a
 * second late), and prints both. */
#define _DEFAULT_SOURCE /* usleep */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS (5 * 1000000LL)
#define BLOCK_NS (1000 * 1000000LL)

static atomic_int mode; /* 0: sleep(1), 1: spin */
static atomic_int blockers_running;
static atomic_int blockers_done;
static int64_t max_late_ns, ticks;

static int64_t thread_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static atomic_int measuring;
static int64_t os_max_late_ns;

/* The OS's share: a plain thread's lateness over 5 ms sleeps meanwhile. */
static void *os_sleeper(void *arg) {
  (void)arg;
  os_max_late_ns = 0;
  while (atomic_load(&measuring)) {
    int64_t t0 = thread_now();
    usleep(PERIOD_NS / 1000);
    int64_t late = thread_now() - t0 - PERIOD_NS;
    if (late > os_max_late_ns) os_max_late_ns = late;
  }
  return NULL;
}

static void blocker(void *arg) {
  (void)arg;
  atomic_fetch_add(&blockers_running, 1);
  if (atomic_load(&mode) == 0) {
    sleep(1);
  } else {
    int64_t until = thread_now() + BLOCK_NS;
    while (thread_now() < until) {
    }
  }
  atomic_fetch_add(&blockers_done, 1);
}

/* Starts the ticker on its own worker, then the blockers (the first one runs
 * right here when this task parks), then measures the gaps between ticks until
 * every blocker is done. */
static void ticking(void *arg) {
  int nblockers = *(int *)arg;
  weft_chan_t *tick;
  CHECK_OK(weft_ticker_make(PERIOD_NS, &tick));
  int64_t at;
  CHECK_OK(weft_chan_recv(tick, &at));
  for (int i = 0; i < nblockers; i++) CHECK_OK(weft_go(blocker, NULL));
  int64_t last = weft_now_ns();
  max_late_ns = 0;
  ticks = 0;
  while (atomic_load(&blockers_done) < nblockers) {
    CHECK_OK(weft_chan_recv(tick, &at));
    int64_t now = weft_now_ns();
    if (atomic_load(&blockers_running) == nblockers && now - last - PERIOD_NS > max_late_ns)
      max_late_ns = now - last - PERIOD_NS;
    last = now;
    ticks++;
  }
  CHECK(weft_timer_stop(tick) == 1);
  CHECK_OK(weft_chan_release(tick));
}

static void run(int m, int nblockers, weft_wg_t *unused) {
  (void)unused;
  atomic_store(&mode, m);
  atomic_store(&blockers_running, 0);
  atomic_store(&blockers_done, 0);
  weft_stats st = {.size = sizeof st};
  pthread_t os;
  atomic_store(&measuring, 1);
  CHECK(pthread_create(&os, NULL, os_sleeper, NULL) == 0);
  CHECK_OK(weft_go(ticking, &nblockers));
  do {
    usleep(10000);
    CHECK_OK(weft_stats_get(&st));
  } while (st.tasks_live > 0);
  atomic_store(&measuring, 0);
  pthread_join(os, NULL);
  printf("%s: %d blockers on %u workers: %lld ticks, max lateness %.1f ms (a plain thread's: %.1f ms)\n",
         m ? "spin" : "sleep(1)", nblockers, st.workers, (long long)ticks, max_late_ns / 1e6,
         os_max_late_ns / 1e6);
  CHECK(ticks >= (BLOCK_NS / PERIOD_NS) / 4); /* it ticked all along */
  CHECK(max_late_ns <= os_max_late_ns + 150 * 1000000LL); /* without the hand-off: ~1,000 ms */
}

int main(void) {
  CHECK_OK(weft_init(NULL));
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  int workers = (int)st.workers;
  run(0, 1, NULL);       /* one worker blocked in sleep(1) */
  run(1, 1, NULL);       /* one spinning */
  run(0, workers, NULL); /* every worker blocked (spinning on all of them would
                            only measure how the OS shares this machine's CPUs) */
  CHECK_OK(weft_shutdown());
  return 0;
}
