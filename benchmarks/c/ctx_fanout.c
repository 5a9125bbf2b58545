/* ctx_fanout (WORKLOADS.md §6): N tasks do ready.Done(); select { ctx.Done() ->
 * woke[i]=1 ; never -> }; done.Done(). Main: ready.Wait (setup_ms), sleep settle,
 * T0 cancel(); done.Wait() T1. n = N. The timed region lies inside the main task. */
#include "bench.h"

static int64_t N, SETTLE;
static weft_ctx_t *ctx;
static weft_chan_t *never, *ctx_done;
static weft_wg_t *ready, *done;
static unsigned char *woke;
static int64_t setup_ns, el_ns;

static void waiter(void *arg) {
  int64_t i = (int64_t)(intptr_t)arg;
  CHECK(weft_wg_done(ready));
  weft_case cases[2] = {
      {.chan = ctx_done, .op = WEFT_CASE_RECV, .elem = NULL},
      {.chan = never, .op = WEFT_CASE_RECV, .elem = NULL},
  };
  int k = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  CHECK(k);
  if (k == 0) woke[i] = 1;
  CHECK(weft_wg_done(done));
}

static void main_task(void *arg) {
  (void)arg;
  int64_t t0 = now_ns();
  for (int64_t i = 0; i < N; i++) CHECK(weft_go(waiter, (void *)(intptr_t)i));
  CHECK(weft_wg_wait(ready));
  setup_ns = now_ns() - t0;
  CHECK(weft_sleep_ns(SETTLE)); /* let the last tasks reach the select and park */

  int64_t start = now_ns();
  CHECK(weft_ctx_cancel(ctx));
  CHECK(weft_wg_wait(done));
  el_ns = now_ns() - start;
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 100000);
  SETTLE = arg_dur_ns(argc, argv, "settle", 20000000);
  bench_start_runtime();
  CHECK(weft_ctx_with_cancel(weft_ctx_background(), &ctx));
  ctx_done = weft_ctx_done(ctx);
  if (!ctx_done) fail("weft_ctx_done returned NULL for a cancelable context");
  CHECK(weft_chan_make(0, 0, &never));
  woke = calloc((size_t)N, 1);
  CHECK(weft_wg_make(&ready));
  CHECK(weft_wg_make(&done));
  CHECK(weft_wg_add(ready, N));
  CHECK(weft_wg_add(done, N));

  bench_run_main(main_task, NULL);

  int64_t count = 0;
  for (int64_t i = 0; i < N; i++) count += woke[i];
  if (count != N) fail("%lld of %lld tasks woke via ctx.Done()", (long long)count, (long long)N);
  char extra[256] = "";
  extra_num(extra, sizeof extra, "total_ms", ms(el_ns));
  extra_num(extra, sizeof extra, "setup_ms", ms(setup_ns));
  report("ctx_fanout", N, el_ns, extra);
  return 0;
}
