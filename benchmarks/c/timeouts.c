/* timeouts (WORKLOADS.md §7): N tasks each make ctx_i = WithTimeout(root, D), block
 * on <-ctx_i.Done(), record lateness vs their own deadline and whether Err() is
 * DeadlineExceeded, cancel, done.Done(). Main: done.Wait(). overhead = total - D,
 * ns_per_op = overhead / N. */
#include "bench.h"

static int64_t N, D;
static int64_t *late;
static unsigned char *expired;
static weft_wg_t *done;

static void body(void *arg) {
  int64_t i = (int64_t)(intptr_t)arg;
  weft_ctx_t *c;
  CHECK(weft_ctx_with_timeout(weft_ctx_background(), D, &c));
  int rc = weft_chan_recv(weft_ctx_done(c), NULL); /* <-ctx.Done() */
  if (rc != WEFT_ECLOSED) CHECK(rc);
  int64_t t = weft_now_ns(), deadline = 0;
  if (weft_ctx_deadline(c, &deadline) != 1) fail("task %lld: context has no deadline", (long long)i);
  late[i] = t - deadline;
  if (weft_ctx_err(c) == WEFT_ETIMEDOUT) expired[i] = 1;
  weft_ctx_cancel(c); /* cancel_i(): a no-op on an expired context */
  CHECK(weft_ctx_release(c));
  CHECK(weft_wg_done(done));
}

static void main_task(void *arg) {
  (void)arg;
  for (int64_t i = 0; i < N; i++) CHECK(weft_go(body, (void *)(intptr_t)i));
  CHECK(weft_wg_wait(done));
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 100000);
  D = arg_dur_ns(argc, argv, "timeout", 50000000);
  bench_start_runtime();
  late = calloc((size_t)N, sizeof *late);
  expired = calloc((size_t)N, 1);
  CHECK(weft_wg_make(&done));
  CHECK(weft_wg_add(done, N));

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t total = now_ns() - t0;

  int64_t count = 0;
  for (int64_t i = 0; i < N; i++) count += expired[i];
  if (count != N)
    fail("%lld of %lld contexts ended with DeadlineExceeded", (long long)count, (long long)N);
  qsort(late, (size_t)N, sizeof *late, cmp64);
  int64_t overhead = total - D;
  char extra[512] = "";
  extra_num(extra, sizeof extra, "timeout_ms", ms(D));
  extra_num(extra, sizeof extra, "total_ms", ms(total));
  extra_num(extra, sizeof extra, "overhead_ms", ms(overhead));
  extra_num(extra, sizeof extra, "max_late_ms", ms(late[N - 1]));
  extra_num(extra, sizeof extra, "p50_late_ms", ms(late[N / 2]));
  extra_num(extra, sizeof extra, "p99_late_ms", ms(late[N * 99 / 100]));
  extra_num(extra, sizeof extra, "min_late_ms", ms(late[0]));
  report("timeouts", N, overhead, extra);
  return 0;
}
