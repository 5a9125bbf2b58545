/* CancelRemoves at scale: a million short-lived children created and canceled
 * (or released, or timed) under one long-lived parent leak nothing: RSS stays
 * flat. */
#include "check.h"

#include <stdio.h>
#include <string.h>

#ifndef ROUNDS
#define ROUNDS 1000000
#endif
#define WARM (ROUNDS / 10)

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) sscanf(line + 6, "%ld", &kb);
  if (f) fclose(f);
  return kb;
}

static void churn(weft_ctx_t *parent, int n) {
  static int key;
  for (int i = 0; i < n; i++) {
    weft_ctx_t *c, *g;
    switch (i % 4) {
    case 0: CHECK_OK(weft_ctx_with_cancel(parent, &c)); break;
    case 1: CHECK_OK(weft_ctx_with_timeout(parent, 3600LL * 1000000000, &c)); break;
    case 2: CHECK_OK(weft_ctx_with_value(parent, &key, NULL, NULL, &c)); break;
    default: CHECK_OK(weft_ctx_with_cancel(parent, &c)); break;
    }
    CHECK_OK(weft_ctx_with_cancel(c, &g));
    if (i % 4 != 2) CHECK_OK(weft_ctx_cancel(c));
    else CHECK_OK(weft_ctx_cancel(g));
    if (i % 8 == 3) (void)weft_ctx_done(g);
    CHECK_OK(weft_ctx_release(g));
    CHECK_OK(weft_ctx_release(c));
  }
}

int main(void) {
  weft_ctx_t *parent;
  CHECK_OK(weft_ctx_with_cancel(NULL, &parent));
  churn(parent, WARM); /* warm up allocator and pools */
  long before = rss_kb();
  churn(parent, ROUNDS);
  long after = rss_kb();
  fprintf(stderr, "rss before %ld kB, after %ld kB\n", before, after);
  CHECK(after - before < 8 * 1024);
  CHECK_OK(weft_ctx_err(parent));
  CHECK_OK(weft_ctx_cancel(parent));
  CHECK_OK(weft_ctx_release(parent));
  CHECK_OK(weft_shutdown());
  return 0;
}
