/* Go's test/chan/doubleselect.go: a sender selects over four channels, four
 * muxers forward into one channel, and every value arrives exactly once.
 * Muxers in tasks, on threads, and mixed. */
#include "chan_test_util.h"

#include <string.h>

enum { N = 20000 };

typedef struct {
  weft_chan_t *c[4];
} send_t;

static void sender(void *raw) {
  send_t *s = raw;
  for (int i = 1; i <= N; i++) {
    weft_case cases[4];
    for (int k = 0; k < 4; k++) cases[k] = (weft_case){s->c[k], WEFT_CASE_SEND, &i, 0};
    int got = weft_select(cases, 4, 0, WEFT_NO_DEADLINE);
    CHECK(got >= 0 && got < 4 && cases[got].result == 0);
  }
  for (int k = 0; k < 4; k++) CHECK_OK(weft_chan_close(s->c[k]));
}

typedef struct {
  weft_chan_t *in, *out;
} mux_t;

static void mux(void *raw) {
  mux_t *m = raw;
  int v;
  while (weft_chan_recv(m->in, &v) == 0) CHECK_OK(weft_chan_send(m->out, &v));
}

typedef struct {
  weft_chan_t *muxdone, *out;
} closer_t;

static void closer(void *raw) {
  closer_t *c = raw;
  wait_done(c->muxdone, 4);
  CHECK_OK(weft_chan_close(c->out));
}

int main(void) {
  for (int mode = 0; mode < 3; mode++) {
    send_t s;
    for (int k = 0; k < 4; k++) CHECK_OK(weft_chan_make(sizeof(int), 0, &s.c[k]));
    weft_chan_t *out;
    CHECK_OK(weft_chan_make(sizeof(int), 0, &out));
    weft_chan_t *done = make_done(2), *muxdone = make_done(4);
    spawn_in(mode == 1 ? MODE_THREAD : MODE_TASK, sender, &s, done);
    mux_t m[4];
    for (int k = 0; k < 4; k++) {
      m[k] = (mux_t){s.c[k], out};
      spawn_in(mode == 2 ? mixed_mode(k) : mode, mux, &m[k], muxdone);
    }
    closer_t cl = {muxdone, out};
    spawn_in(MODE_TASK, closer, &cl, done);
    char *seen = calloc(N + 1, 1);
    int v, count = 0, rc;
    while ((rc = weft_chan_recv(out, &v)) == 0) {
      CHECK(v >= 1 && v <= N);
      CHECK(!seen[v]); /* never twice */
      seen[v] = 1;
      count++;
    }
    CHECK_CODE(rc, WEFT_ECLOSED);
    CHECK(count == N); /* never lost */
    wait_done(done, 2);
    free(seen);
    for (int k = 0; k < 4; k++) CHECK_OK(weft_chan_release(s.c[k]));
    CHECK_OK(weft_chan_release(out));
    CHECK_OK(weft_chan_release(done));
    CHECK_OK(weft_chan_release(muxdone));
  }
  return 0;
}
