/* Bad input returns error codes, never a crash or a hang: NULL handles,
 * absurd capacities, NULL case arrays, bad ops, n = 0 without a default,
 * send on closed, double close, released handles (where detectable). */
#include "chan_test_util.h"

#include <stdint.h>

int main(void) {
  weft_chan_t *ch = (weft_chan_t *)0x1;
  int v = 0;
  CHECK_CODE(weft_chan_make(8, 1, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_chan_make(8, SIZE_MAX / 2, &ch), WEFT_ENOMEM);
  CHECK(ch == NULL);
  CHECK_CODE(weft_chan_make(SIZE_MAX, 2, &ch), WEFT_ENOMEM);
  CHECK_CODE(weft_chan_make(1 << 20, 1 << 20, &ch), WEFT_ENOMEM); /* 1 TiB */
  CHECK_CODE(weft_chan_make(SIZE_MAX, 0, &ch), WEFT_ENOMEM);
  weft_chan_opts bad_opts = {.size = 1};
  CHECK_CODE(weft_chan_make_opts(8, 1, &bad_opts, &ch), WEFT_EINVAL);
  CHECK_OK(weft_chan_make_opts(8, 1, NULL, &ch));
  CHECK_OK(weft_chan_release(ch));

  /* NULL handles */
  CHECK_CODE(weft_chan_send(NULL, &v), WEFT_EINVAL);
  CHECK_CODE(weft_chan_try_send(NULL, &v), WEFT_EINVAL);
  CHECK_CODE(weft_chan_send_until(NULL, &v, 0), WEFT_EINVAL);
  CHECK_CODE(weft_chan_send_ctx(NULL, &v, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_chan_recv(NULL, &v), WEFT_EINVAL);
  CHECK_CODE(weft_chan_try_recv(NULL, &v), WEFT_EINVAL);
  CHECK_CODE(weft_chan_recv_until(NULL, &v, 0), WEFT_EINVAL);
  CHECK_CODE(weft_chan_recv_ctx(NULL, &v, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_chan_close(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_chan_release(NULL), WEFT_EINVAL);
  CHECK(weft_chan_retain(NULL) == NULL);
  CHECK(weft_chan_len(NULL) == WEFT_EINVAL);
  CHECK(weft_chan_cap(NULL) == WEFT_EINVAL);
  CHECK(weft_chan_elem_size(NULL) == 0);
  CHECK_CODE(weft_timer_stop(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_after(1000, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_ticker_make(1000, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_ticker_make(0, &ch), WEFT_EINVAL);
  CHECK_CODE(weft_ticker_make(-5, &ch), WEFT_EINVAL);

  /* a NULL value for a non-empty element */
  CHECK_OK(weft_chan_make(sizeof(int), 1, &ch));
  CHECK_CODE(weft_chan_send(ch, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_chan_try_send(ch, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_timer_stop(ch), WEFT_EINVAL); /* not a timer channel */

  /* select: NULL arrays, bad ops, missing values, bad flags, n = 0 */
  CHECK_CODE(weft_select(NULL, 2, 0, WEFT_NO_DEADLINE), WEFT_EINVAL);
  CHECK_CODE(weft_select_ctx(NULL, 1, 0, NULL), WEFT_EINVAL);
  weft_case bad_op[1] = {{ch, 7, &v, 0}};
  CHECK_CODE(weft_select(bad_op, 1, 0, WEFT_NO_DEADLINE), WEFT_EINVAL);
  weft_case no_value[1] = {{ch, WEFT_CASE_SEND, NULL, 0}};
  CHECK_CODE(weft_select(no_value, 1, 0, WEFT_NO_DEADLINE), WEFT_EINVAL);
  weft_case ok_case[1] = {{ch, WEFT_CASE_RECV, &v, 0}};
  CHECK_CODE(weft_select(ok_case, 1, 0x100, WEFT_NO_DEADLINE), WEFT_EINVAL);
  CHECK_CODE(weft_select(ok_case, 0, 0, WEFT_NO_DEADLINE), WEFT_EDEADLK);
  CHECK_CODE(weft_select(ok_case, 0, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EAGAIN);

  /* send on closed, double close: an error, nothing changes */
  v = 3;
  CHECK_OK(weft_chan_send(ch, &v));
  CHECK_OK(weft_chan_close(ch));
  CHECK_CODE(weft_chan_close(ch), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_send(ch, &v), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_send_until(ch, &v, weft_now_ns() + 1000), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_send_ctx(ch, &v, NULL), WEFT_ECLOSED);
  CHECK(weft_chan_len(ch) == 1);
  v = 0;
  CHECK_OK(weft_chan_recv_ctx(ch, &v, NULL));
  CHECK(v == 3);
  CHECK_CODE(weft_chan_recv_ctx(ch, &v, NULL), WEFT_ECLOSED);

  /* retain / release pairs; a released handle is refused while detectable */
  CHECK(weft_chan_retain(ch) == ch);
  CHECK_OK(weft_chan_release(ch));
  CHECK_OK(weft_chan_release(ch));
  CHECK_CODE(weft_chan_release(ch), WEFT_EINVAL);
  CHECK_CODE(weft_chan_send(ch, &v), WEFT_EINVAL);
  CHECK_CODE(weft_chan_recv(ch, &v), WEFT_EINVAL);
  CHECK_CODE(weft_chan_close(ch), WEFT_EINVAL);
  CHECK(weft_chan_len(ch) == WEFT_EINVAL);
  CHECK(weft_chan_retain(ch) == NULL);
  weft_case released[1] = {{ch, WEFT_CASE_RECV, &v, 0}};
  CHECK_CODE(weft_select(released, 1, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EINVAL);
  return 0;
}
