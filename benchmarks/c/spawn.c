/* spawn (WORKLOADS.md §1): T0; wg.Add(N); N x spawn { wg.Done() }; wg.Wait(); T1.
 * One op = one task spawned, run and exited. n = N.
 *
 * -DSPAWN_COUNTER builds a stand-in for runtimes without weft_wg_*: the WaitGroup
 * becomes an atomic counter and Wait() a weft_yield() loop in the main task. run.sh
 * uses it only when the real port does not link, and the line says
 * "variant": "counter". */
#include <stdatomic.h>

#include "bench.h"

static int64_t N;

#ifndef SPAWN_COUNTER
static weft_wg_t *wg;
static void body(void *arg) {
  (void)arg;
  CHECK(weft_wg_done(wg)); /* WEFT_ERANGE would be a negative counter */
}
static void wg_setup(void) { CHECK(weft_wg_make(&wg)); }
static void wg_add(int64_t n) { CHECK(weft_wg_add(wg, n)); }
static void wg_wait(void) { CHECK(weft_wg_wait(wg)); }
#define VARIANT ""
#else
static _Atomic int64_t counter;
static void body(void *arg) {
  (void)arg;
  if (atomic_fetch_sub_explicit(&counter, 1, memory_order_acq_rel) <= 0)
    fail("negative counter");
}
static void wg_setup(void) {}
static void wg_add(int64_t n) { atomic_fetch_add(&counter, n); }
static void wg_wait(void) {
  while (atomic_load_explicit(&counter, memory_order_acquire) != 0) weft_yield();
}
#define VARIANT "counter"
#endif

static void main_task(void *arg) {
  (void)arg;
  wg_add(N);
  for (int64_t i = 0; i < N; i++) CHECK(weft_go(body, NULL));
  wg_wait(); /* returns only after exactly N Done() calls */
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 100000);
  bench_start_runtime();
  wg_setup();

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  weft_stats st = {.size = sizeof st};
  CHECK(weft_stats_get(&st));
  if (st.tasks_spawned < (uint64_t)N + 1)
    fail("runtime counted %llu spawns, want >= %lld", (unsigned long long)st.tasks_spawned,
         (long long)N + 1);
  char extra[256] = "";
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  if (VARIANT[0]) extra_str(extra, sizeof extra, "variant", VARIANT);
  report("spawn", N, el, extra);
  return 0;
}
