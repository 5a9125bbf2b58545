/* pingpong (WORKLOADS.md §2): two unbuffered int channels; B echoes v+1 until ping is
 * closed; A (main) sends i, receives and checks i+1, N times; closes ping. n = N. */
#include "bench.h"

static int64_t N;
static weft_chan_t *ping, *pong;

static void task_b(void *arg) {
  (void)arg;
  int64_t v;
  for (;;) {
    int rc = weft_chan_recv(ping, &v);
    if (rc == WEFT_ECLOSED) return;
    CHECK(rc);
    v++;
    CHECK(weft_chan_send(pong, &v));
  }
}

static void main_task(void *arg) {
  (void)arg;
  CHECK(weft_go(task_b, NULL));
  for (int64_t i = 0; i < N; i++) {
    int64_t w;
    CHECK(weft_chan_send(ping, &i));
    CHECK(weft_chan_recv(pong, &w));
    if (w != i + 1) fail("round trip %lld: got %lld want %lld", (long long)i, (long long)w,
                         (long long)i + 1);
  }
  CHECK(weft_chan_close(ping));
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 1000000);
  bench_start_runtime();
  CHECK(weft_chan_make(sizeof(int64_t), 0, &ping));
  CHECK(weft_chan_make(sizeof(int64_t), 0, &pong));

  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  char extra[256] = "";
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("pingpong", N, el, extra);
  return 0; /* B's exit is not awaited (as in Go) */
}
