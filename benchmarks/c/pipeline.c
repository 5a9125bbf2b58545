/* pipeline (WORKLOADS.md §10): generator 1..N -> square -> sum (main) over two
 * unbuffered channels, each stage closing its output. n = N. */
#include "bench.h"

static int64_t N;
static weft_chan_t *c1, *c2;
static uint64_t sum;

static void generator(void *arg) {
  (void)arg;
  for (int64_t i = 1; i <= N; i++) CHECK(weft_chan_send(c1, &i));
  CHECK(weft_chan_close(c1));
}

static void square(void *arg) {
  (void)arg;
  int64_t v;
  for (;;) {
    int rc = weft_chan_recv(c1, &v);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    v = (int64_t)((uint64_t)v * (uint64_t)v);
    CHECK(weft_chan_send(c2, &v));
  }
  CHECK(weft_chan_close(c2));
}

static void main_task(void *arg) {
  (void)arg;
  CHECK(weft_go(generator, NULL));
  CHECK(weft_go(square, NULL));
  int64_t v;
  for (;;) {
    int rc = weft_chan_recv(c2, &v);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    sum += (uint64_t)v;
  }
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 1000000);
  bench_start_runtime();
  CHECK(weft_chan_make(sizeof(int64_t), 0, &c1));
  CHECK(weft_chan_make(sizeof(int64_t), 0, &c2));

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  uint64_t want = 0;
  for (uint64_t i = 1; i <= (uint64_t)N; i++) want += i * i;
  if (sum != want) fail("sum=%llu want %llu", (unsigned long long)sum, (unsigned long long)want);
  char extra[256] = "";
  extra_u64(extra, sizeof extra, "sum", sum);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("pipeline", N, el, extra);
  return 0;
}
