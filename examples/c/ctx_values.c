#define _POSIX_C_SOURCE 200809L
/* Values through a context: a request's trace id reaches every task handling
 * it, without being passed explicitly. Usage: ctx_values [--test] */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "weft.h"

static const char trace_key; /* keys compare by address */
static atomic_int seen, freed;

static void log_step(weft_ctx_t *ctx, const char *step) {
  const char *trace = weft_ctx_value(ctx, &trace_key);
  printf("[trace %s] %s\n", trace ? trace : "-", step);
  if (trace) atomic_fetch_add(&seen, 1);
}

static void db_query(void *arg) {
  weft_ctx_t *ctx = arg;
  log_step(ctx, "db query");
  weft_ctx_cancel(ctx); /* done with it: stops its timer now */
  weft_ctx_release(ctx);
}

static void handle_request(void *arg) {
  weft_ctx_t *ctx = arg;
  log_step(ctx, "handler");
  weft_ctx_t *sub;
  weft_ctx_with_timeout(ctx, 1000000000LL, &sub); /* values pass through */
  weft_go(db_query, sub);
  weft_ctx_release(ctx);
}

static void free_trace(void *v) {
  free(v);
  atomic_fetch_add(&freed, 1);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  weft_ctx_t *ctx;
  weft_ctx_with_value(NULL, &trace_key, strdup("7f3a-91c2"), free_trace, &ctx);
  weft_go(handle_request, weft_ctx_retain(ctx));
  weft_ctx_release(ctx);
  int64_t limit = weft_now_ns() + 5000000000LL;
  while (atomic_load(&freed) == 0 && weft_now_ns() < limit) weft_sleep_ns(1000000);
  printf("trace id seen %d times; freed with the last context: %s\n", atomic_load(&seen),
         atomic_load(&freed) ? "yes" : "no");
  weft_shutdown();
  return test && (atomic_load(&seen) != 2 || atomic_load(&freed) != 1) ? 1 : 0;
}
