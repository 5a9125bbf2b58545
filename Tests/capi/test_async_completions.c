/* The *_async calls: each starts the blocking operation in a task and reports
 * exactly one {tag, result} on the notify channel; a context cancels the
 * operation before it happens; bad arguments start nothing. Cancel by tag, the
 * eventfd with weft_async_poll, the overflow count, select over no case. */
#include "check.h"

#include <poll.h>
#include <stdint.h>
#include <unistd.h>

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

  /* cancel by tag: no context of the caller's; a completed op is not pending. */
  got = -1;
  CHECK_OK(weft_chan_recv_async(ch, &got, NULL, notify, 20));
  CHECK_CODE(weft_chan_recv_async(ch, &got, NULL, notify, 20), WEFT_EBUSY); /* tag in use */
  CHECK_CODE(weft_async_cancel(notify, 20), 1);
  c = next_completion(notify);
  CHECK(c.tag == 20 && c.result == WEFT_ECANCELED && got == -1);
  CHECK_CODE(weft_async_cancel(notify, 20), 0);
  CHECK_CODE(weft_chan_try_send(ch, &v), WEFT_EAGAIN);

  /* the eventfd: readable once a completion arrived, drained by poll. */
  int fd = weft_async_fd(notify);
  CHECK(fd >= 0 && weft_async_fd(notify) == fd);
  weft_completion batch[8];
  CHECK_CODE(weft_async_poll(notify, batch, 8), 0);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  CHECK(poll(&pfd, 1, 0) == 0);
  for (uint64_t t = 30; t < 33; t++) CHECK_OK(weft_chan_recv_async(ch, NULL, NULL, notify, t));
  for (int i = 0; i < 3; i++) CHECK_OK(weft_chan_send(ch, &v));
  int seen = 0;
  while (seen < 3) {
    CHECK(poll(&pfd, 1, 5000) == 1);
    int n = weft_async_poll(notify, batch, 8);
    CHECK(n >= 0);
    for (int i = 0; i < n; i++) CHECK(batch[i].tag >= 30 && batch[i].tag < 33 && batch[i].result == 0);
    seen += n;
  }
  CHECK(poll(&pfd, 1, 0) == 0 || weft_async_poll(notify, batch, 8) == 0);

  /* overflow: a full notify counts and signals; nothing is lost. */
  weft_chan_t *small;
  CHECK_OK(weft_chan_make(sizeof(weft_completion), 1, &small));
  int sfd = weft_async_fd(small);
  CHECK(sfd >= 0);
  CHECK_CODE(weft_async_overflows(small), 0);
  for (uint64_t t = 1; t <= 4; t++) CHECK_OK(weft_ctx_wait_async(timed, small, t));
  int64_t deadline = weft_now_ns() + 5000000000LL;
  while (weft_async_overflows(small) < 3 && weft_now_ns() < deadline) weft_sleep_ns(1000000);
  CHECK_CODE(weft_async_overflows(small), 3);
  uint64_t tags = 0;
  for (seen = 0; seen < 4;) {
    struct pollfd spfd = {.fd = sfd, .events = POLLIN};
    CHECK(poll(&spfd, 1, 5000) == 1);
    int n = weft_async_poll(small, batch, 8);
    for (int i = 0; i < n; i++) tags |= 1u << batch[i].tag;
    seen += n;
  }
  CHECK(tags == 0x1e);

  /* select over no case: waits until canceled (by tag here). */
  CHECK_OK(weft_select_async(NULL, 0, NULL, notify, 40));
  weft_sleep_ns(2000000);
  CHECK_CODE(weft_chan_try_recv(notify, &c), WEFT_EAGAIN);
  CHECK_CODE(weft_async_cancel(notify, 40), 1);
  c = next_completion(notify);
  CHECK(c.tag == 40 && c.result == WEFT_ECANCELED);

  /* ctx_wait_async canceled by tag while its context lives. */
  weft_ctx_t *live;
  CHECK_OK(weft_ctx_with_cancel(weft_ctx_background(), &live));
  CHECK_OK(weft_ctx_wait_async(live, notify, 41));
  CHECK_CODE(weft_async_cancel(notify, 41), 1);
  c = next_completion(notify);
  CHECK(c.tag == 41 && c.result == WEFT_ECANCELED && weft_ctx_err(live) == 0);
  weft_ctx_release(live);

  /* bad input starts nothing. */
  CHECK_CODE(weft_async_cancel(NULL, 1), WEFT_EINVAL);
  CHECK_CODE(weft_async_cancel(wrong, 1), WEFT_EINVAL);
  CHECK_CODE(weft_async_fd(wrong), WEFT_EINVAL);
  CHECK_CODE(weft_async_poll(notify, NULL, 8), WEFT_EINVAL);
  CHECK_CODE(weft_async_poll(notify, batch, 0), WEFT_EINVAL);
  CHECK_CODE((int)weft_async_overflows(NULL), WEFT_EINVAL);
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
  weft_chan_release(small);
  weft_chan_release(wrong);
  weft_chan_release(ch);
  weft_chan_release(notify);
  CHECK_OK(weft_shutdown());
  return 0;
}
