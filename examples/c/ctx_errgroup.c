/* errgroup with a limit: fetch 20 "URLs", at most 4 at once; one fails, which
 * cancels the group's context so the rest stop early. Usage: ctx_errgroup [--test] */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "weft.h"

#define MS 1000000LL
static atomic_int fetched, aborted, running, peak;

static int fetch(weft_ctx_t *ctx, void *arg) {
  int id = (int)(intptr_t)arg;
  int now = atomic_fetch_add(&running, 1) + 1;
  if (now > atomic_load(&peak)) atomic_store(&peak, now);
  int err = 0;
  if (id == 9) err = -404; /* the failing one */
  else {
    weft_chan_t *t;
    weft_after(20 * MS, &t);
    weft_case cases[2] = {{.chan = t, .op = WEFT_CASE_RECV}, {.chan = weft_ctx_done(ctx), .op = WEFT_CASE_RECV}};
    if (weft_select(cases, 2, 0, WEFT_NO_DEADLINE) == 1) {
      atomic_fetch_add(&aborted, 1);
      err = weft_ctx_err(ctx);
    } else atomic_fetch_add(&fetched, 1);
    weft_chan_release(t);
  }
  atomic_fetch_sub(&running, 1);
  return err;
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  weft_group_t *g;
  weft_ctx_t *gctx;
  weft_group_make(NULL, &g, &gctx);
  weft_group_set_limit(g, 4);
  int launched = 0;
  for (int i = 0; i < 20; i++) {
    if (weft_ctx_err(gctx)) break; /* stop launching once something failed */
    weft_group_go(g, fetch, (void *)(intptr_t)i);
    launched++;
  }
  int err = weft_group_wait(g);
  printf("first error %d; launched %d, fetched %d, aborted %d, peak concurrency %d\n", err, launched,
         atomic_load(&fetched), atomic_load(&aborted), atomic_load(&peak));
  weft_group_release(g);
  weft_shutdown();
  return test && (err != -404 || atomic_load(&peak) > 4 || launched == 20) ? 1 : 0;
}
