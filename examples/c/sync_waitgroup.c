/* The WaitGroup join of 100,000 tasks: add(N) once, spawn N tasks whose whole
 * body is done(), wait; then the same with weft_wg_go.
 *   usage: sync_waitgroup [--test] */
#include "weft.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static weft_wg_t *wg;
static atomic_long ran;

static void body(void *arg) {
  (void)arg;
  atomic_fetch_add(&ran, 1);
  weft_wg_done(wg);
}

static void go_body(void *arg) {
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv; /* --test runs the same 100,000 tasks: it is quick */
  long n = 100000;
  if (weft_wg_make(&wg) != 0) return 1;

  int64_t start = weft_now_ns();
  if (weft_wg_add(wg, n) != 0) return 1;
  for (long i = 0; i < n; i++)
    if (weft_go(body, NULL) != 0) return 1;
  if (weft_wg_wait(wg) != 0) return 1;
  double ms = (double)(weft_now_ns() - start) / 1e6;
  printf("add+go+done: %ld tasks joined in %.1f ms (%.0f ns per task)\n", atomic_load(&ran), ms,
         ms * 1e6 / (double)n);
  if (atomic_load(&ran) != n) return 1;

  start = weft_now_ns();
  for (long i = 0; i < n; i++)
    if (weft_wg_go(wg, go_body, NULL) != 0) return 1;
  if (weft_wg_wait(wg) != 0) return 1;
  ms = (double)(weft_now_ns() - start) / 1e6;
  printf("weft_wg_go:  %ld tasks joined in %.1f ms (%.0f ns per task)\n", atomic_load(&ran) - n, ms,
         ms * 1e6 / (double)n);
  /* Joined exactly: the counter is back at zero and cannot go below. */
  int rc = atomic_load(&ran) == 2 * n && weft_wg_done(wg) == WEFT_ERANGE ? 0 : 1;
  weft_wg_release(wg);
  (void)strcmp;
  return rc;
}
