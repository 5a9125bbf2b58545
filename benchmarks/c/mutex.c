/* mutex (WORKLOADS.md §8): T tasks each do K x { lock; counter++; unlock } on one
 * plain counter, then done.Done(); main: done.Wait(). n = T*K. */
#include "bench.h"

static int64_t T, K;
static weft_mutex_t *mu;
static weft_wg_t *wg;
static int64_t counter; /* plain, non-atomic: the mutex must protect it */

static void body(void *arg) {
  (void)arg;
  for (int64_t i = 0; i < K; i++) {
    CHECK(weft_mutex_lock(mu));
    counter++;
    CHECK(weft_mutex_unlock(mu));
  }
  CHECK(weft_wg_done(wg));
}

static void main_task(void *arg) {
  (void)arg;
  for (int64_t t = 0; t < T; t++) CHECK(weft_go(body, NULL));
  CHECK(weft_wg_wait(wg));
}

int main(int argc, char **argv) {
  T = arg_i64(argc, argv, "tasks", 4);
  K = arg_i64(argc, argv, "per-task", 1000000);
  bench_start_runtime();
  CHECK(weft_mutex_make(&mu));
  CHECK(weft_wg_make(&wg));
  CHECK(weft_wg_add(wg, T));

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  if (counter != T * K) fail("counter=%lld want %lld", (long long)counter, (long long)(T * K));
  char extra[256] = "";
  extra_int(extra, sizeof extra, "tasks", T);
  extra_int(extra, sizeof extra, "per_task", K);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("mutex", T * K, el, extra);
  return 0;
}
