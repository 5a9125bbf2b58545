/* workerpool (WORKLOADS.md §11): a producer feeds 0..N-1 into jobs (cap 1024) and
 * closes it; W workers send hash(j) on results (cap 1024); a closer waits for the
 * workers and closes results; main sums results until closed. n = N. */
#include "bench.h"

static int64_t N, W, CAP, R;
static weft_chan_t *jobs, *results;
static weft_wg_t *wg;
static uint64_t sum;
static int64_t count;

static uint64_t hash(uint64_t x, int64_t rounds) {
  for (int64_t r = 0; r < rounds; r++) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
  }
  return x;
}

static void producer(void *arg) {
  (void)arg;
  for (int64_t i = 0; i < N; i++) CHECK(weft_chan_send(jobs, &i));
  CHECK(weft_chan_close(jobs));
}

static void worker(void *arg) {
  (void)arg;
  int64_t j;
  for (;;) {
    int rc = weft_chan_recv(jobs, &j);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    uint64_t h = hash((uint64_t)j, R);
    CHECK(weft_chan_send(results, &h));
  }
  CHECK(weft_wg_done(wg));
}

static void closer(void *arg) {
  (void)arg;
  CHECK(weft_wg_wait(wg));
  CHECK(weft_chan_close(results));
}

static void main_task(void *arg) {
  (void)arg;
  CHECK(weft_go(producer, NULL));
  CHECK(weft_wg_add(wg, W));
  for (int64_t w = 0; w < W; w++) CHECK(weft_go(worker, NULL));
  CHECK(weft_go(closer, NULL));
  uint64_t r;
  for (;;) {
    int rc = weft_chan_recv(results, &r);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    sum += r;
    count++;
  }
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 1000000);
  W = arg_i64(argc, argv, "workers", 8);
  CAP = arg_i64(argc, argv, "cap", 1024);
  R = arg_i64(argc, argv, "rounds", 22);

  if (hash(0, 1) != 16294208416658607535ULL || hash(0, 22) != 14727894717325061529ULL ||
      hash(1, 22) != 16909978659706649897ULL)
    fail("hash() does not match the known answers of WORKLOADS.md");
  /* Sequential reference checksum (also measures the pure work per job). */
  int64_t tw = now_ns();
  uint64_t want = 0;
  for (int64_t i = 0; i < N; i++) want += hash((uint64_t)i, R);
  int64_t work = now_ns() - tw;

  bench_start_runtime();
  CHECK(weft_wg_make(&wg));
  CHECK(weft_chan_make(sizeof(int64_t), (size_t)CAP, &jobs));
  CHECK(weft_chan_make(sizeof(uint64_t), (size_t)CAP, &results));
  int64_t t0 = now_ns();
  bench_run_main(main_task, NULL);
  int64_t el = now_ns() - t0;

  if (count != N || sum != want)
    fail("count=%lld sum=%llu, want %lld %llu", (long long)count, (unsigned long long)sum,
         (long long)N, (unsigned long long)want);
  char extra[512] = "";
  extra_int(extra, sizeof extra, "workers", W);
  extra_int(extra, sizeof extra, "cap", CAP);
  extra_int(extra, sizeof extra, "rounds", R);
  extra_num(extra, sizeof extra, "work_ns_per_job", (double)work / (double)N);
  extra_u64(extra, sizeof extra, "checksum", sum);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("workerpool", N, el, extra);
  return 0;
}
