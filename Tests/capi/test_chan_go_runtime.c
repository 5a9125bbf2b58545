/* Go's runtime/chan_test.go TestChan, TestNonblockRecvRace and
 * TestMultiConsumer, with the goroutines as tasks, as threads, and mixed. */
#include "chan_test_util.h"

#include <string.h>

static void nap(void) { weft_sleep_ns(1000000); }

typedef struct {
  weft_chan_t *c;
  volatile int flag;
  weft_chan_t *result; /* int */
} part_t;

static void recv_one(void *raw) {
  part_t *p = raw;
  weft_chan_recv(p->c, NULL);
  __atomic_store_n(&p->flag, 1, __ATOMIC_SEQ_CST);
}

static void send_one(void *raw) {
  part_t *p = raw;
  int zero = 0;
  weft_chan_send(p->c, &zero);
  __atomic_store_n(&p->flag, 1, __ATOMIC_SEQ_CST);
}

static void recv_closed(void *raw) {
  part_t *p = raw;
  int v = 0;
  int ok = weft_chan_recv(p->c, &v) == WEFT_ECLOSED;
  CHECK_OK(weft_chan_send(p->result, &ok));
}

typedef struct {
  weft_chan_t *c;
  int n;
} seq_t;

static void send_seq(void *raw) {
  seq_t *s = raw;
  for (int i = 0; i < s->n; i++) CHECK_OK(weft_chan_send(s->c, &i));
}

enum { P = 4, L = 1000 };
typedef struct {
  weft_chan_t *c, *out; /* out: int counts[L] per receiver, as a pointer */
} multi_t;

static void recv_many(void *raw) {
  multi_t *m = raw;
  int *counts = calloc(L, sizeof(int));
  for (int i = 0; i < L; i++) {
    int v;
    CHECK_OK(weft_chan_recv(m->c, &v));
    CHECK(v >= 0 && v < L);
    counts[v]++;
  }
  CHECK_OK(weft_chan_send(m->out, &counts));
}

static void test_chan(int mode) {
  for (int cap = 0; cap < 24; cap += (cap < 8 ? 1 : 15)) {
    int m = mode == 2 ? mixed_mode(cap) : mode;
    weft_chan_t *done = make_done(64);
    /* receive from an empty channel blocks */
    part_t r1 = {0}, r2 = {0};
    CHECK_OK(weft_chan_make(sizeof(int), cap, &r1.c));
    r2.c = r1.c;
    spawn_in(m, recv_one, &r1, done);
    spawn_in(m, recv_one, &r2, done);
    nap();
    CHECK(!r1.flag && !r2.flag);
    int v = 0;
    CHECK_CODE(weft_chan_try_recv(r1.c, &v), WEFT_EAGAIN);
    weft_case rc[1] = {{r1.c, WEFT_CASE_RECV, &v, 0}};
    CHECK_CODE(weft_select(rc, 1, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EAGAIN);
    CHECK_OK(weft_chan_send(r1.c, &v));
    CHECK_OK(weft_chan_send(r1.c, &v));
    wait_done(done, 2);
    CHECK(r1.flag && r2.flag);
    CHECK_OK(weft_chan_release(r1.c));

    /* send to a full channel blocks */
    part_t s = {0};
    CHECK_OK(weft_chan_make(sizeof(int), cap, &s.c));
    for (int i = 0; i < cap; i++) CHECK_OK(weft_chan_send(s.c, &i));
    spawn_in(m, send_one, &s, done);
    nap();
    CHECK(!s.flag);
    CHECK_CODE(weft_chan_try_send(s.c, &v), WEFT_EAGAIN);
    weft_case sc[1] = {{s.c, WEFT_CASE_SEND, &v, 0}};
    CHECK_CODE(weft_select(sc, 1, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE), WEFT_EAGAIN);
    CHECK_OK(weft_chan_recv(s.c, &v));
    wait_done(done, 1);
    CHECK(s.flag);
    CHECK_OK(weft_chan_release(s.c));

    /* a closed channel drains, then reports closed */
    weft_chan_t *c;
    CHECK_OK(weft_chan_make(sizeof(int), cap, &c));
    for (int i = 0; i < cap; i++) CHECK_OK(weft_chan_send(c, &i));
    CHECK_OK(weft_chan_close(c));
    for (int i = 0; i < cap; i++) {
      CHECK_OK(weft_chan_recv(c, &v));
      CHECK(v == i);
    }
    CHECK_CODE(weft_chan_recv(c, &v), WEFT_ECLOSED);
    CHECK_CODE(weft_chan_recv(c, &v), WEFT_ECLOSED);
    CHECK_OK(weft_chan_release(c));

    /* close unblocks a receive */
    part_t cl = {0};
    CHECK_OK(weft_chan_make(sizeof(int), cap, &cl.c));
    CHECK_OK(weft_chan_make(sizeof(int), 1, &cl.result));
    spawn_in(m, recv_closed, &cl, done);
    nap();
    CHECK_OK(weft_chan_close(cl.c));
    int ok = 0;
    CHECK_OK(weft_chan_recv(cl.result, &ok));
    CHECK(ok);
    wait_done(done, 1);
    CHECK_OK(weft_chan_release(cl.c));
    CHECK_OK(weft_chan_release(cl.result));

    /* 100 integers arrive uncorrupted and in order */
    seq_t sq;
    CHECK_OK(weft_chan_make(sizeof(int), cap, &sq.c));
    sq.n = 100;
    spawn_in(m, send_seq, &sq, done);
    for (int i = 0; i < 100; i++) {
      CHECK_OK(weft_chan_recv(sq.c, &v));
      CHECK(v == i);
    }
    wait_done(done, 1);

    /* P senders of L values, P receivers: each value arrives P times */
    seq_t senders[P];
    multi_t recvs[P];
    weft_chan_t *results;
    CHECK_OK(weft_chan_make(sizeof(int *), P, &results));
    for (int p = 0; p < P; p++) {
      senders[p] = (seq_t){sq.c, L};
      recvs[p] = (multi_t){sq.c, results};
      spawn_in(mode == 2 ? mixed_mode(p) : mode, send_seq, &senders[p], done);
      spawn_in(mode == 2 ? mixed_mode(p + 1) : mode, recv_many, &recvs[p], done);
    }
    int total[L];
    memset(total, 0, sizeof total);
    for (int p = 0; p < P; p++) {
      int *counts;
      CHECK_OK(weft_chan_recv(results, &counts));
      for (int i = 0; i < L; i++) total[i] += counts[i];
      free(counts);
    }
    for (int i = 0; i < L; i++) CHECK(total[i] == P);
    wait_done(done, 2 * P);
    CHECK_OK(weft_chan_release(results));

    /* len and cap */
    CHECK(weft_chan_len(sq.c) == 0 && weft_chan_cap(sq.c) == cap);
    for (int i = 0; i < cap; i++) CHECK_OK(weft_chan_send(sq.c, &i));
    CHECK(weft_chan_len(sq.c) == cap && weft_chan_cap(sq.c) == cap);
    CHECK_OK(weft_chan_release(sq.c));
    CHECK_OK(weft_chan_release(done));
  }
}

/* TestNonblockRecvRace: a try-receive racing with close never sees "empty"
 * on a channel that holds a value. */
typedef struct {
  weft_chan_t *c;
} race_t;

static void try_ready(void *raw) {
  race_t *r = raw;
  weft_case cases[1] = {{r->c, WEFT_CASE_RECV, NULL, 0}};
  int got = weft_select(cases, 1, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE);
  CHECK(got == 0); /* never "not ready" */
}

static void nonblock_recv_race(int mode, int n) {
  weft_chan_t *done = make_done(1);
  for (int i = 0; i < n; i++) {
    race_t r;
    CHECK_OK(weft_chan_make(sizeof(int), 1, &r.c));
    int one = 1;
    CHECK_OK(weft_chan_send(r.c, &one));
    spawn_in(mode == 2 ? mixed_mode(i) : mode, try_ready, &r, done);
    CHECK_OK(weft_chan_close(r.c));
    weft_chan_recv(r.c, NULL); /* value or closed, both fine */
    wait_done(done, 1);
    CHECK_OK(weft_chan_release(r.c));
  }
  CHECK_OK(weft_chan_release(done));
}

/* TestMultiConsumer */
enum { NWORK = 23 };
static const int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
typedef struct {
  weft_chan_t *q, *r;
  int w;
} worker_t;

static void mc_worker(void *raw) {
  worker_t *w = raw;
  int v;
  while (weft_chan_recv(w->q, &v) == 0) {
    if (pn[w->w % 10] == v) weft_yield(); /* mess with the FIFO-ish order */
    CHECK_OK(weft_chan_send(w->r, &v));
  }
}

typedef struct {
  weft_chan_t *q, *r, *wdone;
  int niter;
  int64_t expect;
} feeder_t;

static void mc_feeder(void *raw) {
  feeder_t *f = raw;
  for (int i = 0; i < f->niter; i++) {
    int v = pn[i % 10];
    f->expect += v;
    CHECK_OK(weft_chan_send(f->q, &v));
  }
  CHECK_OK(weft_chan_close(f->q));
  wait_done(f->wdone, NWORK);
  CHECK_OK(weft_chan_close(f->r));
}

static void multi_consumer(int mode, int niter) {
  feeder_t f = {.niter = niter};
  CHECK_OK(weft_chan_make(sizeof(int), NWORK * 3, &f.q));
  CHECK_OK(weft_chan_make(sizeof(int), NWORK * 3, &f.r));
  f.wdone = make_done(NWORK);
  weft_chan_t *done = make_done(1);
  worker_t w[NWORK];
  for (int i = 0; i < NWORK; i++) {
    w[i] = (worker_t){f.q, f.r, i};
    spawn_in(mode == 2 ? mixed_mode(i) : mode, mc_worker, &w[i], f.wdone);
  }
  spawn_in(mode == 2 ? MODE_TASK : mode, mc_feeder, &f, done);
  int n = 0, v;
  int64_t s = 0;
  while (weft_chan_recv(f.r, &v) == 0) {
    n++;
    s += v;
  }
  wait_done(done, 1);
  CHECK(n == niter);
  CHECK(s == f.expect);
  CHECK_OK(weft_chan_release(f.q));
  CHECK_OK(weft_chan_release(f.r));
  CHECK_OK(weft_chan_release(f.wdone));
  CHECK_OK(weft_chan_release(done));
}

int main(void) {
  for (int mode = 0; mode < 3; mode++) {
    test_chan(mode);
    nonblock_recv_race(mode, mode == 1 ? 2000 : 10000);
    multi_consumer(mode, mode == 0 ? 271828 : 50000);
    printf("%s: ok\n", mode == 2 ? "mixed" : mode_name[mode]);
  }
  return 0;
}
