/* Timeout control with a context: a slow "request" raced against a deadline
 * with select over weft_ctx_done(ctx). Usage: ctx_timeout [--test] */
#include <stdio.h>
#include <string.h>
#include "weft.h"

#define MS 1000000LL

static void slow_request(void *arg) { /* replies after 200 ms */
  weft_sleep_ns(200 * MS);
  int64_t answer = 42;
  weft_chan_send((weft_chan_t *)arg, &answer);
}

static int fetch(int64_t timeout_ms, int64_t *answer) {
  weft_ctx_t *ctx;
  weft_chan_t *reply;
  weft_ctx_with_timeout(NULL, timeout_ms * MS, &ctx);
  weft_chan_make(sizeof(int64_t), 1, &reply); /* buffered: the late reply never blocks */
  weft_go(slow_request, weft_chan_retain(reply));
  weft_case cases[2] = {{.chan = reply, .op = WEFT_CASE_RECV, .elem = answer},
                        {.chan = weft_ctx_done(ctx), .op = WEFT_CASE_RECV}};
  int fired = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  int err = fired == 0 ? 0 : weft_ctx_err(ctx);
  weft_ctx_cancel(ctx); /* always cancel: frees the timer at once */
  weft_ctx_release(ctx);
  return err;
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  int64_t answer = 0;
  int err = fetch(50, &answer);
  printf("timeout 50 ms:  %s\n", err ? weft_strerror(err) : "answered");
  if (test && err != WEFT_ETIMEDOUT) return 1;
  err = fetch(1000, &answer);
  printf("timeout 1000 ms: %s (%lld)\n", err ? weft_strerror(err) : "answered", (long long)answer);
  if (test && (err != 0 || answer != 42)) return 1;
  weft_sleep_ns(250 * MS); /* let the first request's task finish */
  return weft_shutdown() == 0 ? 0 : 1;
}
