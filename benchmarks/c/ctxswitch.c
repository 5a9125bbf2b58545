/* ctxswitch (micro, not a peer workload): the raw cost of a task switch. Two tasks
 * weft_yield() back and forth N times each; on 1 worker every yield switches to the
 * other task. ns_per_op = timed ns / yields performed (one yield = one hand-over
 * from one task to the other, scheduler pass included). Run with WEFT_WORKERS=1.
 * Extras: switches_per_yield from weft_stats, alternation = fraction of yields
 * after which the other task had run (1.0 on 1 worker). */
#include <stdatomic.h>

#include "bench.h"

static int64_t N;
static _Atomic int b_done;
static _Atomic int64_t yields, alternations;
static _Atomic int last; /* 1 = A, 2 = B: who ran last */
static int64_t el_ns;

static void yielder(int me) {
  for (int64_t i = 0; i < N; i++) {
    atomic_store_explicit(&last, me, memory_order_relaxed);
    weft_yield();
    if (atomic_load_explicit(&last, memory_order_relaxed) != me)
      atomic_fetch_add_explicit(&alternations, 1, memory_order_relaxed);
  }
  atomic_fetch_add(&yields, N);
}

static void task_b(void *arg) {
  (void)arg;
  yielder(2);
  atomic_store(&b_done, 1);
}

static void task_a(void *arg) {
  (void)arg;
  CHECK(weft_go(task_b, NULL));
  int64_t t0 = now_ns();
  yielder(1);
  int64_t extra = 0;
  while (!atomic_load(&b_done)) {
    weft_yield();
    extra++;
  }
  el_ns = now_ns() - t0;
  atomic_fetch_add(&yields, extra);
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 5000000);
  bench_start_runtime();
  weft_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
  CHECK(weft_stats_get(&s0));
  bench_run_main(task_a, NULL);
  CHECK(weft_stats_get(&s1));
  int64_t y = atomic_load(&yields);
  if (y < 2 * N) fail("only %lld yields", (long long)y);
  char extra[512] = "";
  extra_int(extra, sizeof extra, "yields", y);
  extra_num(extra, sizeof extra, "switches_per_yield",
            (double)(s1.switches - s0.switches) / (double)y);
  extra_num(extra, sizeof extra, "alternation", (double)atomic_load(&alternations) / (double)(2 * N));
  extra_num(extra, sizeof extra, "total_ms", ms(el_ns));
  report("ctxswitch", y, el_ns, extra);
  return 0;
}
