/* A select parked on several channels is woken by exactly one peer, from a
 * task or a thread, for receive, send and close; the others see nothing
 * consumed or delivered. */
#include "chan_test_util.h"

typedef struct {
  weft_chan_t *ch[3];
  int which;   /* which channel the peer uses */
  int action;  /* 0 send, 1 recv, 2 close */
} peer_t;

static void peer(void *raw) {
  peer_t *p = raw;
  weft_sleep_ns(2000000);
  int v = 40 + p->which;
  if (p->action == 0) CHECK_OK(weft_chan_send(p->ch[p->which], &v));
  if (p->action == 1) {
    CHECK_OK(weft_chan_recv(p->ch[p->which], &v));
    CHECK(v == 7);
  }
  if (p->action == 2) CHECK_OK(weft_chan_close(p->ch[p->which]));
}

int main(void) {
  for (int mode = 0; mode < 2; mode++)
    for (int action = 0; action < 3; action++)
      for (int which = 0; which < 3; which++) {
        peer_t p = {.which = which, .action = action};
        for (int i = 0; i < 3; i++) CHECK_OK(weft_chan_make(sizeof(int), 0, &p.ch[i]));
        weft_chan_t *done = make_done(1);
        spawn_in(mode, peer, &p, done);
        int r0 = -1, r1 = -1, r2 = -1, s = 7;
        weft_case cases[3];
        if (action == 1) { /* the peer receives: we send on all three */
          for (int i = 0; i < 3; i++) cases[i] = (weft_case){p.ch[i], WEFT_CASE_SEND, &s, 0};
        } else {
          cases[0] = (weft_case){p.ch[0], WEFT_CASE_RECV, &r0, 0};
          cases[1] = (weft_case){p.ch[1], WEFT_CASE_RECV, &r1, 0};
          cases[2] = (weft_case){p.ch[2], WEFT_CASE_RECV, &r2, 0};
        }
        int got = weft_select(cases, 3, 0, WEFT_NO_DEADLINE);
        CHECK(got == which);
        CHECK_CODE(cases[which].result, action == 2 ? WEFT_ECLOSED : 0);
        if (action == 0) {
          int *r[3] = {&r0, &r1, &r2};
          for (int i = 0; i < 3; i++) CHECK(*r[i] == (i == which ? 40 + which : -1));
        }
        wait_done(done, 1);
        /* nothing else happened on the other channels */
        for (int i = 0; i < 3; i++) {
          int x;
          CHECK_CODE(weft_chan_try_recv(p.ch[i], &x), (action == 2 && i == which) ? WEFT_ECLOSED : WEFT_EAGAIN);
          CHECK_OK(weft_chan_release(p.ch[i]));
        }
        CHECK_OK(weft_chan_release(done));
      }
  return 0;
}
