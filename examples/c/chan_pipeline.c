/* A three-stage pipeline (Go blog "Pipelines and cancellation"): generate ->
 * square -> sum. Each stage closes its output when its input is closed.
 * Usage: chan_pipeline [--test] */
#include "weft.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  weft_chan_t *in, *out;
  int64_t n;
} stage;

static void generate(void *arg) {
  stage *s = arg;
  for (int64_t i = 1; i <= s->n; i++) weft_chan_send(s->out, &i);
  weft_chan_close(s->out);
}

static void square(void *arg) {
  stage *s = arg;
  int64_t v;
  while (weft_chan_recv(s->in, &v) == 0) {
    v *= v;
    weft_chan_send(s->out, &v);
  }
  weft_chan_close(s->out);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  int64_t n = test ? 20000 : 1000000;
  weft_chan_t *nums, *squares;
  weft_chan_make(sizeof(int64_t), 0, &nums);
  weft_chan_make(sizeof(int64_t), 0, &squares);
  stage g = {NULL, nums, n}, s = {nums, squares, 0};
  weft_go(generate, &g);
  weft_go(square, &s);
  int64_t sum = 0, v, t0 = weft_now_ns();
  while (weft_chan_recv(squares, &v) == 0) sum += v; /* stage 3, on main */
  printf("sum of squares 1..%lld = %lld (%.0f ns per value)\n", (long long)n, (long long)sum,
         (double)(weft_now_ns() - t0) / n);
  weft_chan_release(nums);
  weft_chan_release(squares);
  return sum == n * (n + 1) * (2 * n + 1) / 6 ? 0 : 1;
}
