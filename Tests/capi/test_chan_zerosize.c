/* Go's test/chan/zerosize.go and chan struct{} idioms: elem_size 0 channels,
 * unbuffered and buffered, as signals between tasks and threads; NULL values
 * are fine for them. */
#include "chan_test_util.h"

enum { N = 5000 };

typedef struct {
  weft_chan_t *c;
} sig_t_;

static void signaller(void *raw) {
  sig_t_ *s = raw;
  for (int i = 0; i < N; i++) CHECK_OK(weft_chan_send(s->c, NULL));
  CHECK_OK(weft_chan_close(s->c));
}

int main(void) {
  size_t caps[] = {0, 1, 100};
  for (int sm = 0; sm < 2; sm++)
    for (size_t c = 0; c < 3; c++) {
      sig_t_ s;
      CHECK_OK(weft_chan_make(0, caps[c], &s.c));
      CHECK(weft_chan_elem_size(s.c) == 0);
      weft_chan_t *done = make_done(1);
      spawn_in(sm, signaller, &s, done);
      int got = 0, rc;
      char canary = 'x';
      while ((rc = weft_chan_recv(s.c, &canary)) == 0) got++;
      CHECK_CODE(rc, WEFT_ECLOSED);
      CHECK(got == N);
      CHECK(canary == 'x'); /* zero bytes copied */
      wait_done(done, 1);
      CHECK_OK(weft_chan_release(s.c));
      CHECK_OK(weft_chan_release(done));
    }
  /* a huge capacity of nothing costs no memory */
  weft_chan_t *big;
  CHECK_OK(weft_chan_make(0, (size_t)1 << 32, &big));
  CHECK(weft_chan_cap(big) == (int64_t)1 << 32);
  for (int i = 0; i < 1000; i++) CHECK_OK(weft_chan_try_send(big, NULL));
  CHECK(weft_chan_len(big) == 1000);
  CHECK_OK(weft_chan_release(big));
  return 0;
}
