/* select4 (WORKLOADS.md §5): producer p sends p, p+4, ... < N on its own unbuffered
 * channel; main does exactly N blocking 4-way receive selects. n = N.
 * Fairness: weft_select picks uniformly at random among ready cases (like Go). */
#include "bench.h"

static int64_t N;
static weft_chan_t *chs[4];
static int64_t sum, counts[4];

static void producer(void *arg) {
  int64_t p = (int64_t)(intptr_t)arg;
  for (int64_t i = p; i < N; i += 4) CHECK(weft_chan_send(chs[p], &i));
}

static void main_task(void *arg) {
  (void)arg;
  for (int64_t p = 0; p < 4; p++) CHECK(weft_go(producer, (void *)(intptr_t)p));
  int64_t v;
  weft_case cases[4];
  for (int k = 0; k < 4; k++)
    cases[k] = (weft_case){.chan = chs[k], .op = WEFT_CASE_RECV, .elem = &v, .result = 0};
  for (int64_t k = 0; k < N; k++) {
    int i = weft_select(cases, 4, 0, WEFT_NO_DEADLINE);
    CHECK(i);
    if (i > 3) fail("select returned case %d", i);
    CHECK(cases[i].result);
    sum += v;
    counts[i]++;
  }
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 4000000);
  if (N % 4 != 0) fail("n must be a multiple of 4");
  bench_start_runtime();
  for (int p = 0; p < 4; p++) CHECK(weft_chan_make(sizeof(int64_t), 0, &chs[p]));

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  for (int p = 0; p < 4; p++)
    if (counts[p] != N / 4)
      fail("channel %d delivered %lld, want %lld", p, (long long)counts[p], (long long)N / 4);
  if (sum != N * (N - 1) / 2)
    fail("sum=%lld want %lld", (long long)sum, (long long)(N * (N - 1) / 2));
  char extra[256] = "";
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("select4", N, el, extra);
  return 0;
}
