/* buffered_mpmc (WORKLOADS.md §4): P producers (p, p+P, ... < N), a closer
 * (pwg.Wait; close), C consumers summing into their slots, main: cwg.Wait. n = N. */
#include "bench.h"

static int64_t N, P, C, CAP;
static weft_chan_t *ch;
static weft_wg_t *pwg, *cwg;
static int64_t *sums, *counts;

static void producer(void *arg) {
  int64_t p = (int64_t)(intptr_t)arg;
  for (int64_t i = p; i < N; i += P) CHECK(weft_chan_send(ch, &i));
  CHECK(weft_wg_done(pwg));
}

static void closer(void *arg) {
  (void)arg;
  CHECK(weft_wg_wait(pwg));
  CHECK(weft_chan_close(ch));
}

static void consumer(void *arg) {
  int64_t c = (int64_t)(intptr_t)arg, s = 0, k = 0, v;
  for (;;) {
    int rc = weft_chan_recv(ch, &v);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    s += v;
    k++;
  }
  sums[c] = s;
  counts[c] = k;
  CHECK(weft_wg_done(cwg));
}

static void main_task(void *arg) {
  (void)arg;
  CHECK(weft_wg_add(pwg, P));
  for (int64_t p = 0; p < P; p++) CHECK(weft_go(producer, (void *)(intptr_t)p));
  CHECK(weft_go(closer, NULL));
  CHECK(weft_wg_add(cwg, C));
  for (int64_t c = 0; c < C; c++) CHECK(weft_go(consumer, (void *)(intptr_t)c));
  CHECK(weft_wg_wait(cwg));
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 10000000);
  P = arg_i64(argc, argv, "producers", 4);
  C = arg_i64(argc, argv, "consumers", 4);
  CAP = arg_i64(argc, argv, "cap", 1024);
  bench_start_runtime();
  CHECK(weft_chan_make(sizeof(int64_t), (size_t)CAP, &ch));
  CHECK(weft_wg_make(&pwg));
  CHECK(weft_wg_make(&cwg));
  sums = calloc((size_t)C, sizeof *sums);
  counts = calloc((size_t)C, sizeof *counts);

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  int64_t sum = 0, count = 0;
  for (int64_t c = 0; c < C; c++) {
    sum += sums[c];
    count += counts[c];
  }
  if (count != N || sum != N * (N - 1) / 2)
    fail("count=%lld sum=%lld, want %lld %lld", (long long)count, (long long)sum,
         (long long)N, (long long)(N * (N - 1) / 2));
  char extra[256] = "";
  extra_int(extra, sizeof extra, "producers", P);
  extra_int(extra, sizeof extra, "consumers", C);
  extra_int(extra, sizeof extra, "cap", CAP);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("buffered_mpmc", N, el, extra);
  return 0;
}
