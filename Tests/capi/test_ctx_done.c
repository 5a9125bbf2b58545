/* weft_ctx_done is a real channel: select over it and a never-ready channel
 * wakes when the context is canceled, from many tasks and a thread, with one
 * cancel; value contexts share their parent's done channel. */
#include "check.h"

#include <stdatomic.h>

#define MS 1000000LL
enum { N = 5000 };

static weft_ctx_t *ctx;
static weft_chan_t *never;
static atomic_int parked, woke;

static void selector(void *arg) {
  (void)arg;
  weft_case cases[2] = {
      {.chan = weft_ctx_done(ctx), .op = WEFT_CASE_RECV},
      {.chan = never, .op = WEFT_CASE_RECV},
  };
  atomic_fetch_add(&parked, 1);
  int got = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  CHECK(got == 0);
  CHECK_CODE(cases[0].result, WEFT_ECLOSED);
  atomic_fetch_add(&woke, 1);
}

int main(void) {
  static int key;
  CHECK_OK(weft_ctx_with_cancel(NULL, &ctx));
  CHECK_OK(weft_chan_make(0, 0, &never));
  weft_ctx_t *v;
  CHECK_OK(weft_ctx_with_value(ctx, &key, NULL, NULL, &v));
  /* A value context's done channel is its source's (each handle names it
   * by its own borrowed handle). */
  CHECK(weft_ctx_done(v) != NULL);
  CHECK(weft_ctx_done(ctx) == weft_ctx_done(ctx));
  CHECK(weft_chan_elem_size(weft_ctx_done(ctx)) == 0);
  for (int i = 0; i < N; i++) CHECK_OK(weft_go(selector, NULL));
  while (atomic_load(&parked) < N) weft_sleep_ns(MS);
  weft_sleep_ns(20 * MS);
  CHECK(atomic_load(&woke) == 0);
  CHECK_OK(weft_ctx_cancel(ctx));
  CHECK_CODE(weft_chan_recv(weft_ctx_done(v), NULL), WEFT_ECLOSED); /* thread */
  int64_t limit = weft_now_ns() + 5000 * MS;
  while (atomic_load(&woke) < N && weft_now_ns() < limit) weft_sleep_ns(MS);
  CHECK(atomic_load(&woke) == N);
  /* a done channel asked for after the cancel is closed already */
  weft_ctx_t *late;
  CHECK_OK(weft_ctx_with_timeout(NULL, 0, &late));
  CHECK_CODE(weft_chan_try_recv(weft_ctx_done(late), NULL), WEFT_ECLOSED);
  CHECK_OK(weft_ctx_release(late));
  CHECK_OK(weft_ctx_release(v));
  CHECK_OK(weft_ctx_release(ctx));
  CHECK_OK(weft_chan_release(never));
  CHECK_OK(weft_shutdown());
  return 0;
}
