/* Lifetime: the element destructor runs on every value still buffered when
 * the channel is freed (and only on those); a channel released by its creator
 * while a task or thread is blocked on it stays alive for that call. */
#include "chan_test_util.h"

static int dtor_calls;
static int64_t dtor_sum;

static void elem_dtor(void *elem) {
  int64_t *boxed = *(int64_t **)elem;
  __atomic_add_fetch(&dtor_calls, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&dtor_sum, *boxed, __ATOMIC_SEQ_CST);
  free(boxed);
}

static int64_t *box(int64_t v) {
  int64_t *p = malloc(sizeof *p);
  *p = v;
  return p;
}

typedef struct {
  weft_chan_t *ch;
  int op; /* 0 recv, 1 send */
  int rc;
  int64_t got;
} blocked_t;

static void blocked(void *raw) {
  blocked_t *b = raw;
  int64_t v = 42;
  b->rc = b->op == 0 ? weft_chan_recv(b->ch, &b->got) : weft_chan_send(b->ch, &v);
}

int main(void) {
  weft_chan_opts opts;
  opts.size = sizeof opts;
  opts.elem_dtor = elem_dtor;
  weft_chan_t *ch;
  CHECK_OK(weft_chan_make_opts(sizeof(int64_t *), 8, &opts, &ch));
  for (int64_t i = 1; i <= 6; i++) {
    int64_t *p = box(i);
    CHECK_OK(weft_chan_send(ch, &p));
  }
  int64_t *p;
  CHECK_OK(weft_chan_recv(ch, &p)); /* received values are the receiver's */
  CHECK(*p == 1);
  free(p);
  CHECK_OK(weft_chan_close(ch));
  CHECK(weft_chan_retain(ch) == ch);
  CHECK_OK(weft_chan_release(ch));
  CHECK(dtor_calls == 0); /* still referenced */
  CHECK_OK(weft_chan_release(ch));
  CHECK(dtor_calls == 5);
  CHECK(dtor_sum == 2 + 3 + 4 + 5 + 6);

  /* wrapped ring: the destructor sees exactly the buffered values */
  dtor_calls = 0;
  dtor_sum = 0;
  CHECK_OK(weft_chan_make_opts(sizeof(int64_t *), 3, &opts, &ch));
  for (int64_t i = 1; i <= 10; i++) {
    int64_t *q = box(i);
    CHECK_OK(weft_chan_send(ch, &q));
    if (weft_chan_len(ch) == 3) {
      CHECK_OK(weft_chan_recv(ch, &q));
      free(q);
    }
  }
  CHECK(weft_chan_len(ch) == 2);
  CHECK_OK(weft_chan_release(ch));
  CHECK(dtor_calls == 2 && dtor_sum == 9 + 10);

  /* released while blocked: the blocked call keeps the channel alive */
  for (int mode = 0; mode < 2; mode++)
    for (int op = 0; op < 2; op++) {
      blocked_t b = {.op = op};
      CHECK_OK(weft_chan_make(sizeof(int64_t), 0, &b.ch));
      weft_chan_t *extra = weft_chan_retain(b.ch); /* ours, to wake it */
      weft_chan_t *done = make_done(1);
      spawn_in(mode, blocked, &b, done);
      weft_sleep_ns(3000000);
      CHECK_OK(weft_chan_release(b.ch)); /* the creator's reference */
      weft_sleep_ns(1000000);
      int64_t v = 7;
      if (op == 0) CHECK_OK(weft_chan_send(extra, &v));
      else CHECK_OK(weft_chan_recv(extra, &v));
      CHECK_OK(weft_chan_release(extra)); /* now only the blocked call's */
      wait_done(done, 1);
      CHECK_OK(b.rc);
      if (op == 0) CHECK(b.got == 7);
      else CHECK(v == 42);
      CHECK_OK(weft_chan_release(done));
    }

  /* released by everyone but the blocked call, then closed through a select
   * peer: nobody touches freed memory (run under valgrind/ASan to see it) */
  blocked_t b = {.op = 0};
  CHECK_OK(weft_chan_make(sizeof(int64_t), 0, &b.ch));
  weft_chan_t *keep = weft_chan_retain(b.ch);
  weft_chan_t *done = make_done(1);
  spawn_in(MODE_TASK, blocked, &b, done);
  /* its receive must be parked before the last references go (a load here
   * can delay the task past any fixed sleep) */
  for (int64_t until = weft_now_ns() + 10000 * 1000000LL;;) {
    weft_stats st = {.size = sizeof st};
    CHECK_OK(weft_stats_get(&st));
    if (st.tasks_parked >= 1) break;
    CHECK(weft_now_ns() < until);
    weft_sleep_ns(1000000);
  }
  CHECK_OK(weft_chan_release(b.ch));
  CHECK_OK(weft_chan_close(keep));
  CHECK_OK(weft_chan_release(keep));
  wait_done(done, 1);
  CHECK_CODE(b.rc, WEFT_ECLOSED);
  CHECK_OK(weft_chan_release(done));
  return 0;
}
