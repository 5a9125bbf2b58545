/* Select on closed and NULL (nil) channels, defaults, deadlines and the edge
 * cases of the call itself (Go's test/chan/select*.go, closedchan.go). */
#include "chan_test_util.h"

int main(void) {
  weft_chan_t *a, *b;
  CHECK_OK(weft_chan_make(sizeof(int), 2, &a));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &b));
  int v = 0, out = -1;

  /* NULL channels are never ready */
  weft_case nil2[2] = {{NULL, WEFT_CASE_RECV, &out, 0}, {NULL, WEFT_CASE_SEND, &v, 0}};
  CHECK_CODE(weft_select(nil2, 2, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EAGAIN);
  CHECK_CODE(weft_select(nil2, 2, 0, WEFT_NO_DEADLINE), WEFT_EDEADLK);
  int64_t t0 = weft_now_ns();
  CHECK_CODE(weft_select(nil2, 2, 0, t0 + 5000000), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - t0 >= 5000000);
  CHECK_CODE(weft_select(NULL, 0, 0, WEFT_NO_DEADLINE), WEFT_EDEADLK);
  CHECK_CODE(weft_select(NULL, 0, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EAGAIN);
  CHECK_CODE(weft_select(NULL, 0, 0, weft_now_ns() + 1000000), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_select_ctx(NULL, 0, 0, NULL), WEFT_EDEADLK);

  /* a NULL case next to a ready one: only the ready one fires */
  v = 5;
  weft_case mixed[3] = {{NULL, WEFT_CASE_RECV, &out, 0},
                        {a, WEFT_CASE_SEND, &v, 0},
                        {NULL, WEFT_CASE_SEND, &v, 0}};
  for (int i = 0; i < 20; i++) {
    CHECK(weft_select(mixed, 3, 0, WEFT_NO_DEADLINE) == 1);
    CHECK(mixed[1].result == 0);
    CHECK_OK(weft_chan_recv(a, &out));
    CHECK(out == 5);
  }

  /* nothing ready: default and deadline */
  weft_case rb[2] = {{b, WEFT_CASE_RECV, &out, 0}, {a, WEFT_CASE_RECV, &out, 0}};
  CHECK_CODE(weft_select(rb, 2, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EAGAIN);
  CHECK_CODE(weft_select(rb, 2, 0, weft_now_ns() + 2000000), WEFT_ETIMEDOUT);
  CHECK_CODE(weft_select(rb, 2, 0, 0), WEFT_ETIMEDOUT); /* deadline already past */

  /* closed, buffered: values first, then the receive case fires with ECLOSED */
  v = 1;
  CHECK_OK(weft_chan_send(a, &v));
  v = 2;
  CHECK_OK(weft_chan_send(a, &v));
  CHECK_OK(weft_chan_close(a));
  weft_case ra[1] = {{a, WEFT_CASE_RECV, &out, 77}};
  CHECK(weft_select(ra, 1, 0, WEFT_NO_DEADLINE) == 0 && ra[0].result == 0 && out == 1);
  CHECK(weft_select(ra, 1, 0, WEFT_NO_DEADLINE) == 0 && ra[0].result == 0 && out == 2);
  for (int i = 0; i < 3; i++) {
    CHECK(weft_select(ra, 1, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE) == 0);
    CHECK_CODE(ra[0].result, WEFT_ECLOSED);
  }
  /* a closed channel is always ready: beats a never-ready one, every time */
  weft_case rab[2] = {{b, WEFT_CASE_RECV, &out, 0}, {a, WEFT_CASE_RECV, &out, 0}};
  for (int i = 0; i < 50; i++) {
    CHECK(weft_select(rab, 2, 0, WEFT_NO_DEADLINE) == 1);
    CHECK_CODE(rab[1].result, WEFT_ECLOSED);
  }
  /* send case on a closed channel fires with ECLOSED (Go panics; we report) */
  weft_case sa[2] = {{b, WEFT_CASE_RECV, &out, 0}, {a, WEFT_CASE_SEND, &v, 0}};
  CHECK(weft_select(sa, 2, 0, WEFT_NO_DEADLINE) == 1);
  CHECK_CODE(sa[1].result, WEFT_ECLOSED);

  /* close wakes a select blocked on receive and on send */
  weft_chan_t *c;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &c));
  CHECK_OK(weft_chan_close(b));
  weft_case rc1[2] = {{c, WEFT_CASE_SEND, &v, 0}, {b, WEFT_CASE_RECV, &out, 0}};
  CHECK(weft_select(rc1, 2, 0, WEFT_NO_DEADLINE) == 1 && rc1[1].result == WEFT_ECLOSED);

  CHECK_OK(weft_chan_release(a));
  CHECK_OK(weft_chan_release(b));
  CHECK_OK(weft_chan_release(c));
  return 0;
}
