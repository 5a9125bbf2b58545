/* A generator: a task produces an infinite sequence (Fibonacci numbers) on a
 * channel; the consumer takes what it needs and stops the generator by
 * closing a quit channel, which the generator selects on.
 * Usage: chan_generator [--test] */
#include "weft.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  weft_chan_t *out;  /* uint64_t, unbuffered */
  weft_chan_t *quit; /* elem_size 0, closed to stop */
  weft_chan_t *done; /* elem_size 0, closed when the generator returned */
} gen;

static void fibonacci(void *arg) {
  gen *g = arg;
  uint64_t a = 0, b = 1;
  for (;;) {
    weft_case cases[2] = {{g->out, WEFT_CASE_SEND, &a, 0}, {g->quit, WEFT_CASE_RECV, NULL, 0}};
    if (weft_select(cases, 2, 0, WEFT_NO_DEADLINE) == 1) break;
    uint64_t next = a + b;
    a = b;
    b = next;
  }
  weft_chan_close(g->done);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  gen g;
  weft_chan_make(sizeof(uint64_t), 0, &g.out);
  weft_chan_make(0, 0, &g.quit);
  weft_chan_make(0, 0, &g.done);
  weft_go(fibonacci, &g);
  uint64_t v = 0, prev = 0, prev2 = 0;
  int ok = 1;
  for (int i = 0; i < 50; i++) {
    weft_chan_recv(g.out, &v);
    if (i >= 2 && v != prev + prev2) ok = 0;
    if (!test || i < 10) printf("%llu ", (unsigned long long)v);
    prev2 = prev;
    prev = v;
  }
  printf("...\n");
  weft_chan_close(g.quit);                                /* stop the generator */
  ok = ok && weft_chan_recv(g.done, NULL) == WEFT_ECLOSED; /* and see it return */
  ok = ok && v == 7778742049ULL;                          /* F(49) */
  weft_chan_release(g.out);
  weft_chan_release(g.quit);
  weft_chan_release(g.done);
  return ok ? 0 : 1;
}
