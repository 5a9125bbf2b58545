/* Go's test/chan/sieve1.go: the concurrent prime sieve, a chain of filters
 * each in its own runner. Tasks, threads, and filters alternating between
 * the two. */
#include "chan_test_util.h"

typedef struct {
  weft_chan_t *out;
} gen_t;

static void generate(void *raw) {
  gen_t *g = raw;
  for (int i = 2;; i++)
    if (weft_chan_send(g->out, &i) != 0) break; /* closed by main: stop */
}

typedef struct {
  weft_chan_t *in, *out;
  int prime;
} filter_t;

static void filter(void *raw) {
  filter_t *f = raw;
  int v;
  while (weft_chan_recv(f->in, &v) == 0) {
    if (v % f->prime != 0 && weft_chan_send(f->out, &v) != 0) break;
  }
  weft_chan_close(f->in); /* tell the upstream to stop */
}

static int is_prime(int n) {
  for (int d = 2; d * d <= n; d++)
    if (n % d == 0) return 0;
  return n >= 2;
}

static void sieve(int count, int mode /* 0, 1, 2 mixed */) {
  weft_chan_t *done = make_done(count + 1);
  gen_t g;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &g.out));
  spawn_in(mode == 2 ? MODE_TASK : mode, generate, &g, done);
  filter_t *filters = calloc(count, sizeof *filters);
  weft_chan_t *ch = g.out;
  int want = 2;
  for (int i = 0; i < count; i++) {
    int prime;
    CHECK_OK(weft_chan_recv(ch, &prime));
    while (!is_prime(want)) want++;
    CHECK(prime == want);
    want++;
    filters[i].in = ch;
    filters[i].prime = prime;
    CHECK_OK(weft_chan_make(sizeof(int), 0, &filters[i].out));
    spawn_in(mode == 2 ? mixed_mode(i) : mode, filter, &filters[i], done);
    ch = filters[i].out;
  }
  /* stop the chain from the end: each filter closes its input in turn */
  CHECK_OK(weft_chan_close(ch));
  wait_done(done, count + 1);
  CHECK_OK(weft_chan_release(g.out));
  for (int i = 0; i < count; i++) CHECK_OK(weft_chan_release(filters[i].out));
  free(filters);
  CHECK_OK(weft_chan_release(done));
}

int main(void) {
  sieve(200, MODE_TASK);
  sieve(40, MODE_THREAD);
  sieve(100, 2);
  return 0;
}
