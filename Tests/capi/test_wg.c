/* WaitGroup: Go's TestWaitGroup (a barrier reused 8 times) with the members in
 * tasks and plain threads, the coordinator on a thread and in a task; waiting
 * many times on one generation; reuse right after wait. */
#include "sync_util.h"

typedef struct barrier {
  weft_wg_t *wg1, *wg2;
  atomic_int exited;
} barrier;

static void member(void *raw) {
  barrier *b = raw;
  CHECK_OK(weft_wg_done(b->wg1));
  CHECK_OK(weft_wg_wait(b->wg2));
  atomic_fetch_add(&b->exited, 1);
}

enum { N = 16 };

static void round_of(barrier *b) {
  atomic_store(&b->exited, 0);
  CHECK_OK(weft_wg_add(b->wg1, N));
  CHECK_OK(weft_wg_add(b->wg2, N));
  atomic_int left = N;
  pthread_t threads[4];
  runner *rs[N];
  for (int i = 0; i < N; i++) {
    rs[i] = malloc(sizeof(runner));
    *rs[i] = (runner){member, b, &left};
    if (i % 4 == 3) CHECK(pthread_create(&threads[i / 4], NULL, runner_thread, rs[i]) == 0);
    else CHECK_OK(weft_go(runner_task, rs[i]));
  }
  CHECK_OK(weft_wg_wait(b->wg1));
  for (int i = 0; i < N; i++) {
    if (atomic_load(&b->exited) != 0) {
      fprintf(stderr, "WaitGroup released group too soon\n");
      exit(1);
    }
    CHECK_OK(weft_wg_done(b->wg2));
  }
  wait_zero(&left);
  CHECK(atomic_load(&b->exited) == N);
  for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
}

static void rounds(void *raw) {
  for (int i = 0; i < 8; i++) round_of(raw);
}

/* Many waiters (tasks and threads) on one generation, then reuse at once. */
typedef struct gen {
  weft_wg_t *wg;
  atomic_int woke;
} gen;

static void waiter(void *raw) {
  gen *g = raw;
  CHECK_OK(weft_wg_wait(g->wg));
  atomic_fetch_add(&g->woke, 1);
}

static void waiter_then_reuse(void *raw) {
  gen *g = raw;
  CHECK_OK(weft_wg_wait(g->wg));
  atomic_fetch_add(&g->woke, 1);
}

int main(void) {
  barrier b;
  CHECK_OK(weft_wg_make(&b.wg1));
  CHECK_OK(weft_wg_make(&b.wg2));
  rounds(&b);        /* coordinator on the main thread */
  run_in_task(rounds, &b); /* coordinator in a task */
  CHECK_OK(weft_wg_release(b.wg1));
  CHECK_OK(weft_wg_release(b.wg2));

  /* A zero counter: wait returns at once, from a thread and a task. */
  gen g = {0};
  CHECK_OK(weft_wg_make(&g.wg));
  CHECK_OK(weft_wg_wait(g.wg));
  run_in_task(waiter, &g);
  CHECK(atomic_load(&g.woke) == 1);

  /* 200 waiters on one generation; done releases all of them; then reuse. */
  for (int round = 0; round < 3; round++) {
    atomic_store(&g.woke, 0);
    CHECK_OK(weft_wg_add(g.wg, 1));
    atomic_int left = 0;
    pthread_t threads[8];
    for (int i = 0; i < 200; i++) {
      runner *r = malloc(sizeof *r);
      *r = (runner){i % 2 ? waiter : waiter_then_reuse, &g, &left};
      atomic_fetch_add(&left, 1);
      if (i < 8) CHECK(pthread_create(&threads[i], NULL, runner_thread, r) == 0);
      else CHECK_OK(weft_go(runner_task, r));
    }
    sleep_ms_thread(20);
    CHECK(atomic_load(&g.woke) == 0);
    CHECK_OK(weft_wg_done(g.wg));
    /* Reuse at once: the old waiters still waking must not be confused. */
    CHECK_OK(weft_wg_add(g.wg, 2));
    CHECK(weft_wg_wait_until(g.wg, weft_now_ns() + 5 * MS) == WEFT_ETIMEDOUT);
    CHECK_OK(weft_wg_done(g.wg));
    CHECK_OK(weft_wg_done(g.wg));
    wait_zero(&left);
    CHECK(atomic_load(&g.woke) == 200);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
  }
  CHECK_OK(weft_wg_release(g.wg));
  printf("wg ok\n");
  return 0;
}
