/* Channel basics from a plain thread: buffered FIFO, try forms, close and
 * drain, len/cap, zero-size elements, deadlines. */
#include "check.h"

#include <string.h>

int main(void) {
  weft_chan_t *ch = NULL;
  CHECK_OK(weft_chan_make(sizeof(int64_t), 4, &ch));
  CHECK(ch != NULL);
  CHECK(weft_chan_cap(ch) == 4);
  CHECK(weft_chan_len(ch) == 0);
  CHECK(weft_chan_elem_size(ch) == sizeof(int64_t));
  for (int64_t i = 0; i < 4; i++) CHECK_OK(weft_chan_send(ch, &i));
  CHECK(weft_chan_len(ch) == 4);
  int64_t v = 99;
  CHECK_CODE(weft_chan_try_send(ch, &v), WEFT_EAGAIN);
  int64_t t0 = weft_now_ns();
  CHECK_CODE(weft_chan_send_until(ch, &v, t0 + 20000000), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - t0 >= 20000000);
  CHECK_CODE(weft_chan_send_until(ch, &v, 0), WEFT_ETIMEDOUT); /* past deadline */
  for (int64_t i = 0; i < 4; i++) {
    int64_t got = -1;
    CHECK_OK(weft_chan_recv(ch, &got));
    CHECK(got == i);
  }
  CHECK_CODE(weft_chan_try_recv(ch, &v), WEFT_EAGAIN);
  CHECK_CODE(weft_chan_recv_until(ch, &v, weft_now_ns() + 1000000), WEFT_ETIMEDOUT);
  /* wrap around the ring many times */
  for (int64_t i = 0; i < 1000; i++) {
    CHECK_OK(weft_chan_send(ch, &i));
    if (i % 3 == 2) {
      for (int k = 0; k < 3; k++) {
        int64_t got;
        CHECK_OK(weft_chan_recv(ch, &got));
        CHECK(got == i - 2 + k);
      }
    }
  }
  CHECK_OK(weft_chan_recv(ch, &v));
  CHECK(v == 999);
  /* close: drain, then ECLOSED; send and second close fail and change nothing */
  v = 7;
  CHECK_OK(weft_chan_send(ch, &v));
  CHECK_OK(weft_chan_close(ch));
  CHECK_CODE(weft_chan_close(ch), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_send(ch, &v), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_try_send(ch, &v), WEFT_ECLOSED);
  CHECK(weft_chan_len(ch) == 1);
  CHECK_OK(weft_chan_recv(ch, NULL)); /* NULL discards */
  CHECK_CODE(weft_chan_recv(ch, &v), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_try_recv(ch, &v), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_recv_until(ch, &v, weft_now_ns() + 1000000), WEFT_ECLOSED);
  CHECK_OK(weft_chan_release(ch));

  /* zero-size elements: signal channels */
  weft_chan_t *sig;
  CHECK_OK(weft_chan_make(0, 3, &sig));
  CHECK_OK(weft_chan_send(sig, NULL));
  CHECK_OK(weft_chan_send(sig, NULL));
  CHECK(weft_chan_len(sig) == 2);
  CHECK_OK(weft_chan_recv(sig, NULL));
  CHECK_OK(weft_chan_recv(sig, NULL));
  CHECK_CODE(weft_chan_try_recv(sig, NULL), WEFT_EAGAIN);
  CHECK_OK(weft_chan_release(sig));

  /* large elements are copied whole */
  struct big { char bytes[100]; } a, b;
  weft_chan_t *bigch;
  CHECK_OK(weft_chan_make(sizeof a, 2, &bigch));
  memset(&a, 0x5a, sizeof a);
  CHECK_OK(weft_chan_send(bigch, &a));
  memset(&b, 0, sizeof b);
  CHECK_OK(weft_chan_recv(bigch, &b));
  CHECK(memcmp(&a, &b, sizeof a) == 0);
  CHECK_OK(weft_chan_release(bigch));

  /* unbuffered: try forms never block */
  weft_chan_t *unb;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &unb));
  int x = 1;
  CHECK_CODE(weft_chan_try_send(unb, &x), WEFT_EAGAIN);
  CHECK_CODE(weft_chan_try_recv(unb, &x), WEFT_EAGAIN);
  CHECK(weft_chan_cap(unb) == 0);
  CHECK_OK(weft_chan_release(unb));
  puts("ok");
  return 0;
}
