/* parked_memory (micro, not a peer workload): RSS per parked task with no channel.
 * N tasks each weft_sleep_ns(long) — parked on a timer. bytes_per_task =
 * (VmRSS with all parked - VmRSS before) * 1024 / N; compare with Go's
 * blocked_memory bytes_per_task (~2,860 B, which also holds a channel).
 * ns_per_op = setup (spawn until every task is running) / N. The tasks are
 * abandoned at exit (weft_shutdown with a 1 ms grace). */
#include <stdatomic.h>

#include "bench.h"

static int64_t N, SETTLE;
static _Atomic int64_t ready;

static void body(void *arg) {
  (void)arg;
  atomic_fetch_add_explicit(&ready, 1, memory_order_relaxed);
  weft_sleep_ns(600LL * 1000000000LL); /* far beyond the run */
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 100000);
  SETTLE = arg_dur_ns(argc, argv, "settle", 20000000);
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = 1000000;
  int rc = weft_init(&cfg);
  if (rc < 0) die_call("weft_init", rc, __LINE__);
  weft_stats st = {.size = sizeof st};
  CHECK(weft_stats_get(&st));
  int64_t before = status_kb("VmRSS");

  int64_t t0 = now_ns();
  for (int64_t i = 0; i < N; i++) CHECK(weft_go(body, NULL));
  while (atomic_load(&ready) < N) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  int64_t setup = now_ns() - t0;
  struct timespec settle = {SETTLE / 1000000000, SETTLE % 1000000000};
  nanosleep(&settle, NULL);
  int64_t parked = status_kb("VmRSS");
  CHECK(weft_stats_get(&st));
  if (st.tasks_parked < (uint64_t)N)
    fail("%llu tasks parked, want %lld", (unsigned long long)st.tasks_parked, (long long)N);

  char extra[512] = "";
  extra_int(extra, sizeof extra, "rss_before_kb", before);
  extra_int(extra, sizeof extra, "rss_parked_kb", parked);
  extra_int(extra, sizeof extra, "bytes_per_task", (parked - before) * 1024 / N);
  extra_num(extra, sizeof extra, "setup_ms", ms(setup));
  report("parked_memory", N, setup, extra);
  weft_shutdown(); /* abandons the sleepers after the 1 ms grace */
  return 0;
}
