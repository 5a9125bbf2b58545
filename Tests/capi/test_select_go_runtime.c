/* Go's runtime/chan_test.go select tests: TestSelfSelect, TestSelectStress,
 * TestSelectFairness, TestSelectDuplicateChannel. Tasks, threads, mixed. */
#include "chan_test_util.h"

#include <math.h>

/* --- TestSelfSelect: send and receive on the same channel in one select;
 * a select never meets itself. */
typedef struct {
  weft_chan_t *c;
  int p, cap;
} self_t;

static void self_select(void *raw) {
  self_t *s = raw;
  for (int i = 0; i < 1000; i++) {
    int v = -1, p = s->p;
    weft_case cases[2];
    int send_first = s->p == 0 || i % 2 == 0;
    cases[send_first ? 0 : 1] = (weft_case){s->c, WEFT_CASE_SEND, &p, 0};
    cases[send_first ? 1 : 0] = (weft_case){s->c, WEFT_CASE_RECV, &v, 0};
    int got = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
    CHECK(got == 0 || got == 1);
    if (cases[got].op == WEFT_CASE_RECV && s->cap == 0) CHECK(v != s->p); /* self receive */
  }
}

static void test_self_select(int mode) {
  int caps[] = {0, 10};
  for (int k = 0; k < 2; k++) {
    weft_chan_t *c, *done = make_done(2);
    CHECK_OK(weft_chan_make(sizeof(int), caps[k], &c));
    self_t s[2] = {{c, 0, caps[k]}, {c, 1, caps[k]}};
    for (int p = 0; p < 2; p++) spawn_in(mode == 2 ? mixed_mode(p) : mode, self_select, &s[p], done);
    wait_done(done, 2);
    CHECK_OK(weft_chan_release(c));
    CHECK_OK(weft_chan_release(done));
  }
}

/* --- TestSelectStress: plain senders and receivers on four channels plus a
 * select sender and a select receiver that disable finished cases with NULL. */
enum { SN = 5000 };
typedef struct {
  weft_chan_t **c;
  int k;
} one_t;

static void plain_send(void *raw) {
  one_t *o = raw;
  int zero = 0;
  for (int i = 0; i < SN; i++) CHECK_OK(weft_chan_send(o->c[o->k], &zero));
}

static void plain_recv(void *raw) {
  one_t *o = raw;
  for (int i = 0; i < SN; i++) CHECK_OK(weft_chan_recv(o->c[o->k], NULL));
}

typedef struct {
  weft_chan_t **c;
  int op;
} sel_t;

static void select_all(void *raw) {
  sel_t *s = raw;
  int n[4] = {0}, zero = 0;
  weft_case cases[4];
  for (int k = 0; k < 4; k++) cases[k] = (weft_case){s->c[k], s->op, &zero, 0};
  for (int i = 0; i < 4 * SN; i++) {
    int got = weft_select(cases, 4, 0, WEFT_NO_DEADLINE);
    CHECK(got >= 0 && got < 4 && cases[got].result == 0);
    if (++n[got] == SN) cases[got].chan = NULL; /* done with this one */
  }
}

static void test_select_stress(int mode) {
  weft_chan_t *c[4];
  CHECK_OK(weft_chan_make(sizeof(int), 0, &c[0]));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &c[1]));
  CHECK_OK(weft_chan_make(sizeof(int), 2, &c[2]));
  CHECK_OK(weft_chan_make(sizeof(int), 3, &c[3]));
  weft_chan_t *done = make_done(10);
  one_t ones[4];
  for (int k = 0; k < 4; k++) {
    ones[k] = (one_t){c, k};
    /* a plain sender and a plain receiver per channel */
    spawn_in(mode == 2 ? mixed_mode(k) : mode, plain_send, &ones[k], done);
  }
  for (int k = 0; k < 4; k++) spawn_in(mode == 2 ? mixed_mode(k + 1) : mode, plain_recv, &ones[k], done);
  sel_t ss = {c, WEFT_CASE_SEND}, sr = {c, WEFT_CASE_RECV};
  spawn_in(mode == 2 ? MODE_TASK : mode, select_all, &ss, done);
  spawn_in(mode == 2 ? MODE_THREAD : mode, select_all, &sr, done);
  wait_done(done, 10);
  for (int k = 0; k < 4; k++) {
    CHECK_CODE(weft_chan_try_recv(c[k], NULL), WEFT_EAGAIN); /* all balanced */
    CHECK_OK(weft_chan_release(c[k]));
  }
  CHECK_OK(weft_chan_release(done));
}

/* --- TestSelectFairness: two always-ready channels, two never-ready ones. */
enum { TRIALS = 10000 };
typedef struct {
  weft_chan_t *c1, *c2, *c3, *c4, *out, *done;
} fair_t;

static void fair_picker(void *raw) {
  fair_t *f = raw;
  for (;;) {
    unsigned char b = 0;
    weft_case cases[4] = {{f->c3, WEFT_CASE_RECV, &b, 0},
                          {f->c4, WEFT_CASE_RECV, &b, 0},
                          {f->c1, WEFT_CASE_RECV, &b, 0},
                          {f->c2, WEFT_CASE_RECV, &b, 0}};
    CHECK(weft_select(cases, 4, 0, WEFT_NO_DEADLINE) >= 2);
    weft_case out[2] = {{f->out, WEFT_CASE_SEND, &b, 0}, {f->done, WEFT_CASE_RECV, NULL, 0}};
    if (weft_select(out, 2, 0, WEFT_NO_DEADLINE) == 1) return;
  }
}

static void test_select_fairness(int mode) {
  fair_t f;
  CHECK_OK(weft_chan_make(1, TRIALS + 1, &f.c1));
  CHECK_OK(weft_chan_make(1, TRIALS + 1, &f.c2));
  for (int i = 0; i < TRIALS + 1; i++) {
    unsigned char one = 1, two = 2;
    CHECK_OK(weft_chan_send(f.c1, &one));
    CHECK_OK(weft_chan_send(f.c2, &two));
  }
  CHECK_OK(weft_chan_make(1, 0, &f.c3));
  CHECK_OK(weft_chan_make(1, 0, &f.c4));
  CHECK_OK(weft_chan_make(1, 0, &f.out));
  CHECK_OK(weft_chan_make(0, 0, &f.done));
  weft_chan_t *done = make_done(1);
  spawn_in(mode, fair_picker, &f, done);
  int cnt1 = 0, cnt2 = 0;
  for (int i = 0; i < TRIALS; i++) {
    unsigned char b;
    CHECK_OK(weft_chan_recv(f.out, &b));
    if (b == 1) cnt1++;
    else if (b == 2) cnt2++;
    else CHECK(!"unexpected value");
  }
  /* six nines of confidence, as Go's test */
  double r = (double)cnt1 / TRIALS, e = fabs(r - 0.5);
  printf("fairness (%s): %d / %d\n", mode_name[mode], cnt1, cnt2);
  CHECK(e <= 4.891676 / (2 * sqrt(TRIALS)));
  CHECK_OK(weft_chan_close(f.done));
  wait_done(done, 1);
  weft_chan_t *all[] = {f.c1, f.c2, f.c3, f.c4, f.out, f.done, done};
  for (int i = 0; i < 7; i++) CHECK_OK(weft_chan_release(all[i]));
}

/* Three ready cases out of eight, from the main thread: each about 1/3. */
static void test_uniform3(void) {
  weft_chan_t *c[8];
  for (int i = 0; i < 8; i++) CHECK_OK(weft_chan_make(0, i % 3 == 0 ? 100000 : 0, &c[i]));
  int counts[8] = {0};
  for (int t = 0; t < 30000; t++) {
    weft_case cases[8];
    for (int i = 0; i < 8; i++) {
      if (i % 3 == 0) weft_chan_try_send(c[i], NULL);
      cases[i] = (weft_case){c[i], WEFT_CASE_RECV, NULL, 0};
    }
    counts[weft_select(cases, 8, 0, WEFT_NO_DEADLINE)]++;
  }
  for (int i = 0; i < 8; i++) {
    if (i % 3 != 0) CHECK(counts[i] == 0);
    else CHECK(counts[i] > 9400 && counts[i] < 10600); /* 10000 +- 6 sigma (82) ... generous */
  }
  for (int i = 0; i < 8; i++) CHECK_OK(weft_chan_release(c[i]));
}

/* --- TestSelectDuplicateChannel: a select queued twice on one channel. */
typedef struct {
  weft_chan_t *c, *d, *e;
} dup_t;

static void dup_a(void *raw) {
  dup_t *x = raw;
  weft_case cases[3] = {{x->c, WEFT_CASE_RECV, NULL, 0},
                        {x->c, WEFT_CASE_RECV, NULL, 0},
                        {x->d, WEFT_CASE_RECV, NULL, 0}};
  CHECK(weft_select(cases, 3, 0, WEFT_NO_DEADLINE) == 2);
  int nine = 9;
  CHECK_OK(weft_chan_send(x->e, &nine));
}

static void dup_b(void *raw) {
  dup_t *x = raw;
  int v;
  CHECK_OK(weft_chan_recv(x->c, &v));
  CHECK(v == 8);
}

static void test_duplicate(int mode) {
  dup_t x;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &x.c));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &x.d));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &x.e));
  weft_chan_t *done = make_done(2);
  spawn_in(mode == 2 ? MODE_TASK : mode, dup_a, &x, done);
  weft_sleep_ns(2000000); /* A queues first on c (twice) */
  spawn_in(mode == 2 ? MODE_THREAD : mode, dup_b, &x, done);
  weft_sleep_ns(2000000); /* then B */
  int v = 7;
  CHECK_OK(weft_chan_send(x.d, &v)); /* wakes A, which unlinks itself from c */
  CHECK_OK(weft_chan_recv(x.e, &v));
  CHECK(v == 9);
  v = 8;
  CHECK_OK(weft_chan_send(x.c, &v)); /* must reach B */
  wait_done(done, 2);
  CHECK_OK(weft_chan_release(x.c));
  CHECK_OK(weft_chan_release(x.d));
  CHECK_OK(weft_chan_release(x.e));
  CHECK_OK(weft_chan_release(done));
}

int main(void) {
  for (int mode = 0; mode < 3; mode++) {
    test_self_select(mode);
    test_select_stress(mode);
    if (mode < 2) test_select_fairness(mode);
    test_duplicate(mode);
    printf("%s: ok\n", mode == 2 ? "mixed" : mode_name[mode]);
  }
  test_uniform3();
  return 0;
}
