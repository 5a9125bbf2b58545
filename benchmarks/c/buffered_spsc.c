/* buffered_spsc (WORKLOADS.md §3): a producer sends 0..N-1 on a cap-C channel and
 * closes it; the consumer (main) sums until closed. n = N. */
#include "bench.h"

static int64_t N, C;
static weft_chan_t *ch;
static int64_t sum, count;

static void producer(void *arg) {
  (void)arg;
  for (int64_t i = 0; i < N; i++) CHECK(weft_chan_send(ch, &i));
  CHECK(weft_chan_close(ch));
}

static void main_task(void *arg) {
  (void)arg;
  CHECK(weft_go(producer, NULL));
  int64_t v;
  for (;;) {
    int rc = weft_chan_recv(ch, &v);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    sum += v;
    count++;
  }
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 10000000);
  C = arg_i64(argc, argv, "cap", 1024);
  bench_start_runtime();
  CHECK(weft_chan_make(sizeof(int64_t), (size_t)C, &ch));

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  if (count != N || sum != N * (N - 1) / 2)
    fail("count=%lld sum=%lld, want %lld %lld", (long long)count, (long long)sum,
         (long long)N, (long long)(N * (N - 1) / 2));
  char extra[256] = "";
  extra_int(extra, sizeof extra, "cap", C);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("buffered_spsc", N, el, extra);
  return 0;
}
