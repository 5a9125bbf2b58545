/* Every mix of task and plain thread on both ends of unbuffered and buffered
 * channels; checks FIFO, nothing lost, and that an unbuffered send completes
 * only once a receiver took the value. */
#include "chan_test_util.h"

#define N 20000

typedef struct {
  weft_chan_t *ch;
  int64_t sum;
} end_t;

static void producer(void *raw) {
  end_t *e = raw;
  for (int64_t i = 0; i < N; i++) CHECK_OK(weft_chan_send(e->ch, &i));
  CHECK_OK(weft_chan_close(e->ch));
}

static void consumer(void *raw) {
  end_t *e = raw;
  int64_t expect = 0, v;
  int rc;
  while ((rc = weft_chan_recv(e->ch, &v)) == 0) {
    CHECK(v == expect); /* FIFO */
    expect++;
    e->sum += v;
  }
  CHECK_CODE(rc, WEFT_ECLOSED);
  CHECK(expect == N);
}

/* Rendezvous: after an unbuffered send returns, the receiver has the value. */
typedef struct {
  weft_chan_t *ch;
  volatile int64_t seen;
} rv_t;

static void rv_receiver(void *raw) {
  rv_t *r = raw;
  int64_t v;
  for (int i = 0; i < 200; i++) {
    weft_sleep_ns(20000);
    CHECK_OK(weft_chan_recv(r->ch, &v));
    __atomic_store_n(&r->seen, v, __ATOMIC_SEQ_CST);
  }
}

static void rv_sender(void *raw) {
  rv_t *r = raw;
  for (int64_t i = 1; i <= 200; i++) {
    CHECK_OK(weft_chan_send(r->ch, &i));
    /* the receiver copied i before we returned: it stores it right after */
    while (__atomic_load_n(&r->seen, __ATOMIC_SEQ_CST) < i - 1) weft_yield();
    CHECK(__atomic_load_n(&r->seen, __ATOMIC_SEQ_CST) >= i - 1);
  }
}

int main(void) {
  size_t caps[] = {0, 1, 7, 1024};
  for (int pm = 0; pm < 2; pm++)
    for (int cm = 0; cm < 2; cm++)
      for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        end_t e = {0};
        CHECK_OK(weft_chan_make(sizeof(int64_t), caps[c], &e.ch));
        weft_chan_t *done = make_done(2);
        spawn_in(cm, consumer, &e, done);
        spawn_in(pm, producer, &e, done);
        wait_done(done, 2);
        CHECK(e.sum == (int64_t)N * (N - 1) / 2);
        CHECK_OK(weft_chan_release(e.ch));
        CHECK_OK(weft_chan_release(done));
        printf("producer %s, consumer %s, cap %zu: ok\n", mode_name[pm], mode_name[cm], caps[c]);
      }
  for (int sm = 0; sm < 2; sm++)
    for (int rm = 0; rm < 2; rm++) {
      rv_t r = {0};
      CHECK_OK(weft_chan_make(sizeof(int64_t), 0, &r.ch));
      weft_chan_t *done = make_done(2);
      spawn_in(rm, rv_receiver, &r, done);
      spawn_in(sm, rv_sender, &r, done);
      wait_done(done, 2);
      CHECK_OK(weft_chan_release(r.ch));
      CHECK_OK(weft_chan_release(done));
    }
  /* the main thread itself on one end, a task on the other */
  end_t e = {0};
  CHECK_OK(weft_chan_make(sizeof(int64_t), 0, &e.ch));
  weft_chan_t *done = make_done(1);
  spawn_in(MODE_TASK, producer, &e, done);
  consumer(&e);
  wait_done(done, 1);
  CHECK_OK(weft_chan_release(e.ch));
  CHECK_OK(weft_chan_release(done));
  return 0;
}
