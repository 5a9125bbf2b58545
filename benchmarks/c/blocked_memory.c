/* blocked_memory (WORKLOADS.md §9): N tasks each blocked receiving on their own
 * unbuffered channel. bytes_per_task = (VmRSS blocked - VmRSS before) * 1024 / N.
 * setup (create channel + spawn, ready.Wait) and release (send i on each,
 * done.Wait) are timed inside the main task; ns_per_op = (setup + release) / N. */
#include "bench.h"

static int64_t N, SETTLE;
static weft_chan_t **chans;
static unsigned char *ok;
static weft_wg_t *ready, *done;
static int64_t before_kb, blocked_kb, setup_ns, release_ns;

static void body(void *arg) {
  int64_t i = (int64_t)(intptr_t)arg, v = -1;
  CHECK(weft_wg_done(ready));
  CHECK(weft_chan_recv(chans[i], &v));
  if (v == i) ok[i] = 1;
  CHECK(weft_wg_done(done));
}

static void main_task(void *arg) {
  (void)arg;
  before_kb = status_kb("VmRSS");
  int64_t t0 = now_ns();
  for (int64_t i = 0; i < N; i++) {
    CHECK(weft_chan_make(sizeof(int64_t), 0, &chans[i]));
    CHECK(weft_go(body, (void *)(intptr_t)i));
  }
  CHECK(weft_wg_wait(ready));
  setup_ns = now_ns() - t0;
  CHECK(weft_sleep_ns(SETTLE));
  blocked_kb = status_kb("VmRSS");

  int64_t t1 = now_ns();
  for (int64_t i = 0; i < N; i++) CHECK(weft_chan_send(chans[i], &i));
  CHECK(weft_wg_wait(done));
  release_ns = now_ns() - t1;
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 100000);
  SETTLE = arg_dur_ns(argc, argv, "settle", 20000000);
  /* Bookkeeping allocated and touched before the baseline reading. */
  chans = calloc((size_t)N, sizeof *chans);
  ok = calloc((size_t)N, 1);
  memset(chans, 0, (size_t)N * sizeof *chans);
  memset(ok, 0, (size_t)N);
  bench_start_runtime();
  CHECK(weft_wg_make(&ready));
  CHECK(weft_wg_make(&done));
  CHECK(weft_wg_add(ready, N));
  CHECK(weft_wg_add(done, N));

  bench_run_main(main_task, NULL);

  int64_t count = 0;
  for (int64_t i = 0; i < N; i++) count += ok[i];
  if (count != N) fail("%lld of %lld tasks received their value", (long long)count, (long long)N);
  char extra[512] = "";
  extra_int(extra, sizeof extra, "rss_before_kb", before_kb);
  extra_int(extra, sizeof extra, "rss_blocked_kb", blocked_kb);
  extra_int(extra, sizeof extra, "bytes_per_task", (blocked_kb - before_kb) * 1024 / N);
  extra_num(extra, sizeof extra, "setup_ms", ms(setup_ns));
  extra_num(extra, sizeof extra, "release_ms", ms(release_ns));
  report("blocked_memory", N, setup_ns + release_ns, extra);
  return 0;
}
