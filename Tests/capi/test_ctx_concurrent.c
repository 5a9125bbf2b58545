/* SimultaneousCancels and InterlockedCancels (Go's context tests), waiting from
 * tasks and threads at once, and a context released by its creator while tasks
 * still wait on it (the blocked calls keep it alive). */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

#define MS 1000000LL

static atomic_int woke;

static void waiter(void *arg) {
  CHECK_CODE(weft_ctx_wait((weft_ctx_t *)arg), WEFT_ECANCELED);
  atomic_fetch_add(&woke, 1);
}

static void *thread_waiter(void *arg) {
  waiter(arg);
  return NULL;
}

static void *thread_canceler(void *arg) {
  CHECK_OK(weft_ctx_cancel((weft_ctx_t *)arg));
  return NULL;
}

static void simultaneous_cancels(void) {
  /* a tree of contexts; tasks and threads wait on each; all cancel at once
   * from several threads */
  enum { TREE = 64, TASKS = 4, THREADS = 2 };
  weft_ctx_t *root, *nodes[TREE];
  CHECK_OK(weft_ctx_with_cancel(NULL, &root));
  for (int i = 0; i < TREE; i++) {
    weft_ctx_t *parent = i == 0 ? root : nodes[(i - 1) / 2];
    CHECK_OK(weft_ctx_with_cancel(parent, &nodes[i]));
  }
  atomic_store(&woke, 0);
  pthread_t th[TREE * THREADS];
  int nth = 0;
  for (int i = 0; i < TREE; i++) {
    for (int k = 0; k < TASKS; k++) CHECK_OK(weft_go(waiter, nodes[i]));
    if (i % 8 == 0)
      for (int k = 0; k < THREADS; k++) CHECK(pthread_create(&th[nth++], NULL, thread_waiter, nodes[i]) == 0);
  }
  weft_sleep_ns(20 * MS);
  pthread_t cancelers[4];
  for (int k = 0; k < 4; k++) CHECK(pthread_create(&cancelers[k], NULL, thread_canceler, k == 0 ? root : nodes[k]) == 0);
  for (int k = 0; k < 4; k++) pthread_join(cancelers[k], NULL);
  for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
  int want = TREE * TASKS + nth;
  int64_t limit = weft_now_ns() + 5000 * MS;
  while (atomic_load(&woke) < want && weft_now_ns() < limit) weft_sleep_ns(MS);
  CHECK(atomic_load(&woke) == want);
  for (int i = 0; i < TREE; i++) CHECK_CODE(weft_ctx_err(nodes[i]), WEFT_ECANCELED);
  for (int i = TREE - 1; i >= 0; i--) CHECK_OK(weft_ctx_release(nodes[i]));
  CHECK_OK(weft_ctx_release(root));
}

/* InterlockedCancels: cancelling parent makes child cancel in the middle of
 * parent's cancellation (an after-func cancels another context). */
static weft_ctx_t *other;
static void cancel_other(void *arg) {
  (void)arg;
  CHECK_OK(weft_ctx_cancel(other));
}

static void interlocked_cancels(void) {
  weft_ctx_t *parent, *child;
  CHECK_OK(weft_ctx_with_cancel(NULL, &parent));
  CHECK_OK(weft_ctx_with_timeout(parent, 1 * MS, &child));
  CHECK_OK(weft_ctx_with_cancel(NULL, &other));
  weft_after_func_t *af;
  CHECK_OK(weft_ctx_after_func(child, cancel_other, NULL, &af));
  CHECK_CODE(weft_ctx_wait(other), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_cancel(parent));
  CHECK_CODE(weft_ctx_err(child), WEFT_ETIMEDOUT);
  CHECK_OK(weft_after_func_release(af));
  CHECK_OK(weft_ctx_release(child));
  CHECK_OK(weft_ctx_release(parent));
  CHECK_OK(weft_ctx_release(other));
}

/* The creator releases the context while tasks wait on it; a parent cancels it
 * later: the waiters wake, nothing touches freed memory. */
static void released_while_waiting(void) {
  weft_ctx_t *parent, *c;
  CHECK_OK(weft_ctx_with_cancel(NULL, &parent));
  CHECK_OK(weft_ctx_with_cancel(parent, &c));
  atomic_store(&woke, 0);
  for (int i = 0; i < 100; i++) CHECK_OK(weft_go(waiter, c));
  pthread_t th;
  CHECK(pthread_create(&th, NULL, thread_waiter, c) == 0);
  weft_sleep_ns(20 * MS);
  CHECK_OK(weft_ctx_release(c));
  CHECK_OK(weft_ctx_cancel(parent));
  pthread_join(th, NULL);
  int64_t limit = weft_now_ns() + 5000 * MS;
  while (atomic_load(&woke) < 101 && weft_now_ns() < limit) weft_sleep_ns(MS);
  CHECK(atomic_load(&woke) == 101);
  CHECK_OK(weft_ctx_release(parent));
}

/* Cancel racing with child creation and child cancel, many rounds. */
static weft_ctx_t *race_parent;
static void *race_children(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++) {
    weft_ctx_t *c;
    CHECK_OK(weft_ctx_with_cancel(race_parent, &c));
    if (i & 1) CHECK_OK(weft_ctx_cancel(c));
    CHECK_OK(weft_ctx_release(c));
  }
  return NULL;
}

static void cancel_races(void) {
  for (int round = 0; round < 20; round++) {
    CHECK_OK(weft_ctx_with_cancel(NULL, &race_parent));
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, race_children, NULL) == 0);
    CHECK(pthread_create(&b, NULL, race_children, NULL) == 0);
    weft_sleep_ns(100000);
    CHECK_OK(weft_ctx_cancel(race_parent));
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK_OK(weft_ctx_release(race_parent));
  }
}

int main(void) {
  simultaneous_cancels();
  interlocked_cancels();
  released_while_waiting();
  cancel_races();
  CHECK_OK(weft_shutdown());
  return 0;
}
