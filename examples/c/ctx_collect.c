/* CollectResults with partial success: 12 lookups under a 100 ms timeout; the
 * fast ones succeed, one fails on its own, the slow ones time out. Results come
 * back in input order. Usage: ctx_collect [--test] */
#include <stdio.h>
#include <string.h>
#include "weft.h"

#define MS 1000000LL

static int lookup(weft_ctx_t *ctx, void *arg, void *out) {
  int id = (int)(intptr_t)arg;
  weft_chan_t *t;
  weft_after((id % 4 == 3 ? 500 : 10 + id) * MS, &t); /* every 4th is slow */
  weft_case cases[2] = {{.chan = t, .op = WEFT_CASE_RECV}, {.chan = weft_ctx_done(ctx), .op = WEFT_CASE_RECV}};
  int fired = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  weft_chan_release(t);
  if (fired == 1) return weft_ctx_err(ctx);
  if (id == 5) return -2; /* "not found" */
  *(int *)out = id * 100;
  return 0;
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  enum { N = 12 };
  weft_job jobs[N];
  int values[N], errs[N];
  for (int i = 0; i < N; i++) jobs[i] = (weft_job){lookup, (void *)(intptr_t)i};
  weft_ctx_t *ctx;
  weft_ctx_with_timeout(NULL, 100 * MS, &ctx);
  int64_t ok = weft_collect(ctx, jobs, N, sizeof(int), values, errs, 6);
  int bad = 0;
  for (int i = 0; i < N; i++) {
    if (errs[i] == 0) printf("job %2d: %d\n", i, values[i]);
    else printf("job %2d: error %s\n", i, weft_err_name(errs[i]));
    int want = i % 4 == 3 ? WEFT_ETIMEDOUT : i == 5 ? -2 : 0;
    if (errs[i] != want || (want == 0 && values[i] != i * 100)) bad++;
  }
  printf("%lld of %d succeeded\n", (long long)ok, N);
  weft_ctx_release(ctx);
  weft_sleep_ns(50 * MS);
  weft_shutdown();
  return test && (bad || ok != 8) ? 1 : 0;
}
