/* A task returns its result on a channel (Go: `go func() { ch <- work() }()`).
 * Usage: chan_result [--test] */
#include "weft.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  int64_t n;
  weft_chan_t *result; /* int64_t, capacity 1: the task never waits */
} job;

static void sum_of_squares(void *arg) {
  job *j = arg;
  int64_t s = 0;
  for (int64_t i = 1; i <= j->n; i++) s += i * i;
  weft_chan_send(j->result, &s);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  job j = {.n = test ? 1000 : 1000000};
  if (weft_chan_make(sizeof(int64_t), 1, &j.result) != 0) return 1;
  weft_go(sum_of_squares, &j);
  int64_t s = 0;
  weft_chan_recv(j.result, &s); /* the main thread waits for the answer */
  printf("sum of squares 1..%lld = %lld\n", (long long)j.n, (long long)s);
  weft_chan_release(j.result);
  return s == j.n * (j.n + 1) * (2 * j.n + 1) / 6 ? 0 : 1;
}
