/* The *_async calls: each starts the blocking operation in a task and reports
 * exactly one {tag, result} on the notify channel; a context cancels the
 * operation before it happens; bad arguments start nothing. */
#include "check.h"

static weft_completion next_completion(weft_chan_t *notify) {
  weft_completion c;
  CHECK_OK(weft_chan_recv_until(notify, &c, weft_now_ns() + 5000000000LL));
  CHECK(c.reserved == 0);
  return c;
}

int main(void) {
  weft_chan_t *notify, *ch, *wrong;
  CHECK_OK(weft_chan_make(sizeof(weft_completion), 64, &notify));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &ch));
  CHECK_OK(weft_chan_make(sizeof(int), 1, &wrong));

  /* recv: completes when a value arrives, the value in out. */
  int got = 0;
  CHECK_OK(weft_chan_recv_async(ch, &got, NULL, notify, 7));
  int v = 42;
  CHECK_OK(weft_chan_send(ch, &v));
  weft_completion c = next_completion(notify);
  CHECK(c.tag == 7 && c.result == 0 && got == 42);

  /* send: completes when a receiver took it. */
  int out = 99;
  CHECK_OK(weft_chan_send_async(ch, &out, NULL, notify, 8));
  CHECK_OK(weft_chan_recv(ch, &got));
  c = next_completion(notify);
  CHECK(c.tag == 8 && c.result == 0 && got == 99);

  /* canceled before it happened: nothing was received. */
  weft_ctx_t *ctx;
  CHECK_OK(weft_ctx_with_cancel(weft_ctx_background(), &ctx));
  got = -1;
  CHECK_OK(weft_chan_recv_async(ch, &got, ctx, notify, 9));
  CHECK_OK(weft_ctx_cancel(ctx));
  c = next_completion(notify);
  CHECK(c.tag == 9 && c.result == WEFT_ECANCELED && got == -1);
  CHECK_CODE(weft_chan_try_send(ch, &v), WEFT_EAGAIN); /* no receiver left behind */

  /* wg, mutex, semaphore, context. */
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  CHECK_OK(weft_wg_add(wg, 1));
  CHECK_OK(weft_wg_wait_async(wg, NULL, notify, 10));
  CHECK_OK(weft_wg_done(wg));
  c = next_completion(notify);
  CHECK(c.tag == 10 && c.result == 0);

  weft_mutex_t *mu;
  CHECK_OK(weft_mutex_make(&mu));
  CHECK_OK(weft_mutex_lock(mu));
  CHECK_OK(weft_mutex_lock_async(mu, NULL, notify, 11));
  CHECK_OK(weft_mutex_unlock(mu));
  c = next_completion(notify);
  CHECK(c.tag == 11 && c.result == 0);
  CHECK_CODE(weft_mutex_try_lock(mu), WEFT_EAGAIN); /* the completion's owner holds it */
  CHECK_OK(weft_mutex_unlock(mu));

  weft_sem_t *sem;
  CHECK_OK(weft_sem_make(2, &sem));
  CHECK_OK(weft_sem_acquire(sem, 2));
  CHECK_OK(weft_sem_acquire_async(sem, 2, NULL, notify, 12));
  CHECK_OK(weft_sem_put(sem, 2));
  c = next_completion(notify);
  CHECK(c.tag == 12 && c.result == 0);

  weft_ctx_t *timed;
  CHECK_OK(weft_ctx_with_timeout(weft_ctx_background(), 5000000, &timed));
  CHECK_OK(weft_ctx_wait_async(timed, notify, 13));
  c = next_completion(notify);
  CHECK(c.tag == 13 && c.result == WEFT_ETIMEDOUT);

  /* select: the index of the case that fired. */
  weft_chan_t *other;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &other));
  int a = 0;
  weft_case cases[2] = {{.chan = other, .op = WEFT_CASE_RECV, .elem = &a},
                        {.chan = ch, .op = WEFT_CASE_RECV, .elem = &a}};
  CHECK_OK(weft_select_async(cases, 2, NULL, notify, 14));
  v = 5;
  CHECK_OK(weft_chan_send(ch, &v));
  c = next_completion(notify);
  CHECK(c.tag == 14 && c.result == 1 && a == 5);

  /* bad input starts nothing. */
  CHECK_CODE(weft_chan_recv_async(NULL, &got, NULL, notify, 1), WEFT_EINVAL);
  CHECK_CODE(weft_chan_recv_async(ch, &got, NULL, wrong, 1), WEFT_EINVAL);
  CHECK_CODE(weft_chan_recv_async(ch, &got, NULL, NULL, 1), WEFT_EINVAL);
  CHECK_CODE(weft_select_async(NULL, 1, NULL, notify, 1), WEFT_EINVAL);
  CHECK_CODE(weft_chan_try_recv(notify, &c), WEFT_EAGAIN);

  weft_ctx_release(ctx);
  weft_ctx_release(timed);
  weft_wg_release(wg);
  weft_mutex_release(mu);
  weft_sem_release(sem);
  weft_chan_release(other);
  weft_chan_release(wrong);
  weft_chan_release(ch);
  weft_chan_release(notify);
  CHECK_OK(weft_shutdown());
  return 0;
}
