/* Handle table properties the bad-input table cannot show one call at a time:
 *  - a released handle stays refused after its slot was reused a million times
 *    (generations never repeat: a worn-out slot is retired);
 *  - two threads racing to release a handle holding one reference: exactly one
 *    wins, the other gets WEFT_EINVAL (no double free);
 *  - many threads making, retaining and releasing handles of every kind at
 *    once never see a handle of theirs refused or another's accepted. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define THREADS 4

static void generations(void) {
  weft_wg_t *first;
  CHECK_OK(weft_wg_make(&first));
  CHECK_OK(weft_wg_release(first));
  /* LIFO reuse: the same slot comes back until its generation runs out. */
  for (int i = 0; i < (1 << 20) + 1000; i++) {
    weft_wg_t *wg;
    CHECK_OK(weft_wg_make(&wg));
    CHECK(wg != first);
    CHECK_OK(weft_wg_release(wg));
    if (i % 65536 == 0) CHECK_CODE(weft_wg_add(first, 1), WEFT_EINVAL);
  }
  CHECK_CODE(weft_wg_add(first, 1), WEFT_EINVAL);
  CHECK_CODE(weft_wg_release(first), WEFT_EINVAL);
  printf("generations ok\n");
}

static weft_chan_t *shared;
static atomic_int wins, losses, go_flag;

static void *racer(void *arg) {
  (void)arg;
  while (!atomic_load(&go_flag)) {
  }
  int rc = weft_chan_release(shared);
  if (rc == 0) atomic_fetch_add(&wins, 1);
  else if (rc == WEFT_EINVAL) atomic_fetch_add(&losses, 1);
  return NULL;
}

static void release_race(void) {
  for (int round = 0; round < 2000; round++) {
    CHECK_OK(weft_chan_make(8, 1, &shared));
    atomic_store(&wins, 0);
    atomic_store(&losses, 0);
    atomic_store(&go_flag, 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, racer, NULL);
    atomic_store(&go_flag, 1);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK(atomic_load(&wins) == 1 && atomic_load(&losses) == 1);
  }
  printf("release race ok\n");
}

static void *churn(void *arg) {
  (void)arg;
  for (int i = 0; i < 20000; i++) {
    weft_chan_t *ch;
    weft_mutex_t *mu;
    weft_ctx_t *ctx;
    CHECK_OK(weft_chan_make(8, 1, &ch));
    CHECK_OK(weft_mutex_make(&mu));
    CHECK_OK(weft_ctx_with_cancel(NULL, &ctx));
    int64_t v = i;
    CHECK_OK(weft_chan_try_send(ch, &v));
    CHECK(weft_chan_retain(ch) == ch);
    CHECK_CODE(weft_mutex_lock((weft_mutex_t *)ch), WEFT_EINVAL);
    CHECK_OK(weft_mutex_lock(mu));
    CHECK_OK(weft_mutex_unlock(mu));
    weft_chan_t *done = weft_ctx_done(ctx);
    CHECK(done != NULL);
    CHECK_OK(weft_ctx_cancel(ctx));
    CHECK_CODE(weft_chan_recv(done, NULL), WEFT_ECLOSED);
    CHECK_OK(weft_ctx_release(ctx));
    CHECK_CODE(weft_chan_recv(done, NULL), WEFT_EINVAL);
    CHECK_OK(weft_chan_release(ch));
    CHECK_OK(weft_chan_recv(ch, &v));
    CHECK(v == i);
    CHECK_OK(weft_chan_release(ch));
    CHECK_CODE(weft_chan_release(ch), WEFT_EINVAL);
    CHECK_OK(weft_mutex_release(mu));
    CHECK_CODE(weft_mutex_unlock(mu), WEFT_EINVAL);
  }
  return NULL;
}

static void concurrent(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, churn, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("concurrent churn ok\n");
}

int main(void) {
  generations();
  release_race();
  concurrent();
  return 0;
}
