/* Go's test/chan/fifo.go: an asynchronous FIFO (buffered) and a synchronous
 * one (a chain of N runners, each waiting for its turn on an unbuffered
 * channel before it receives its value). Tasks, threads and both mixed. */
#include "chan_test_util.h"

static void async_fifo(void) {
  enum { N = 1000 };
  weft_chan_t *ch;
  CHECK_OK(weft_chan_make(sizeof(int), N, &ch));
  for (int i = 0; i < N; i++) CHECK_OK(weft_chan_send(ch, &i));
  for (int i = 0; i < N; i++) {
    int v;
    CHECK_OK(weft_chan_recv(ch, &v));
    CHECK(v == i);
  }
  CHECK_OK(weft_chan_release(ch));
}

typedef struct {
  weft_chan_t *ch, *in, *out;
  int val;
} link_t;

static void chain(void *raw) {
  link_t *l = raw;
  int v;
  CHECK_OK(weft_chan_recv(l->in, NULL));
  CHECK_OK(weft_chan_recv(l->ch, &v));
  CHECK(v == l->val); /* values arrive in the order the links were started */
  CHECK_OK(weft_chan_send(l->out, &v));
}

static void sync_fifo(int n, int mode /* 0 task, 1 thread, 2 mixed */) {
  weft_chan_t *ch, *start;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &ch));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &start));
  link_t *links = calloc(n, sizeof *links);
  weft_chan_t *done = make_done(n);
  weft_chan_t *in = start;
  for (int i = 0; i < n; i++) {
    weft_chan_t *out;
    CHECK_OK(weft_chan_make(sizeof(int), 0, &out));
    links[i] = (link_t){ch, in, out, i};
    spawn_in(mode == 2 ? mixed_mode(i) : mode, chain, &links[i], done);
    in = out;
  }
  int zero = 0;
  CHECK_OK(weft_chan_send(start, &zero));
  for (int i = 0; i < n; i++) CHECK_OK(weft_chan_send(ch, &i));
  CHECK_OK(weft_chan_recv(in, NULL)); /* the last link's out */
  wait_done(done, n);
  for (int i = 0; i < n; i++) CHECK_OK(weft_chan_release(links[i].out));
  CHECK_OK(weft_chan_release(ch));
  CHECK_OK(weft_chan_release(start));
  CHECK_OK(weft_chan_release(done));
  free(links);
}

int main(void) {
  async_fifo();
  sync_fifo(1, 0);
  sync_fifo(1, 1);
  sync_fifo(2000, 0);
  sync_fifo(64, 1);
  sync_fifo(200, 2);
  return 0;
}
