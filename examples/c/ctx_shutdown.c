/* Graceful shutdown on SIGTERM/SIGINT: workers run until a signal context is
 * canceled, then finish their current item and exit. Without --test it waits
 * for Ctrl-C; with --test it sends itself SIGTERM after 100 ms.
 * Usage: ctx_shutdown [--test] */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "weft.h"

#define MS 1000000LL
static atomic_int items, exited;

static void worker(void *arg) {
  weft_ctx_t *ctx = arg;
  while (!weft_ctx_err(ctx)) {
    weft_chan_t *t;
    weft_after(10 * MS, &t); /* one "item" of work */
    weft_case cases[2] = {{.chan = t, .op = WEFT_CASE_RECV}, {.chan = weft_ctx_done(ctx), .op = WEFT_CASE_RECV}};
    if (weft_select(cases, 2, 0, WEFT_NO_DEADLINE) == 0) atomic_fetch_add(&items, 1);
    weft_chan_release(t);
  }
  atomic_fetch_add(&exited, 1);
  weft_ctx_release(ctx);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  weft_ctx_t *ctx;
  weft_ctx_with_signals(NULL, &ctx);
  for (int i = 0; i < 8; i++) weft_go(worker, weft_ctx_retain(ctx));
  printf("8 workers running; %s\n", test ? "sending SIGTERM in 100 ms" : "press Ctrl-C to stop");
  if (test) {
    weft_sleep_ns(100 * MS);
    kill(getpid(), SIGTERM);
  }
  weft_ctx_wait(ctx);
  printf("signal %d received: shutting down\n", weft_ctx_cause(ctx));
  while (atomic_load(&exited) < 8) weft_sleep_ns(MS);
  printf("all workers exited after %d items\n", atomic_load(&items));
  weft_ctx_release(ctx); /* restores the previous SIGTERM/SIGINT disposition */
  int rc = weft_shutdown();
  return test && (rc != 0 || weft_ctx_err(NULL) != 0 || atomic_load(&items) == 0) ? 1 : 0;
}
