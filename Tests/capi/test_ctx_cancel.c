/* Go's context tests, cancellation half: WithCancel, ParentFinishesChild,
 * ChildFinishesFirst, WithCancelCanceledParent, LayersCancel, cause, and bad
 * input. From a plain thread and from a task. */
#include "check.h"

#include <stdatomic.h>

static void with_cancel(void) {
  weft_ctx_t *c1, *c2, *c3;
  CHECK_OK(weft_ctx_with_cancel(NULL, &c1));
  CHECK_OK(weft_ctx_with_cancel(c1, &c2));
  CHECK_OK(weft_ctx_with_cancel(c2, &c3));
  weft_ctx_t *all[3] = {c1, c2, c3};
  for (int i = 0; i < 3; i++) {
    CHECK_OK(weft_ctx_err(all[i]));
    CHECK(weft_ctx_cause(all[i]) == 0);
    CHECK(weft_ctx_done(all[i]) != NULL);
    CHECK_CODE(weft_chan_try_recv(weft_ctx_done(all[i]), NULL), WEFT_EAGAIN);
  }
  CHECK_OK(weft_ctx_cancel(c2));
  CHECK_OK(weft_ctx_err(c1));
  CHECK_CODE(weft_ctx_err(c2), WEFT_ECANCELED);
  CHECK_CODE(weft_ctx_err(c3), WEFT_ECANCELED);
  CHECK_CODE(weft_chan_try_recv(weft_ctx_done(c2), NULL), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_try_recv(weft_ctx_done(c3), NULL), WEFT_ECLOSED);
  CHECK_CODE(weft_chan_try_recv(weft_ctx_done(c1), NULL), WEFT_EAGAIN);
  CHECK_OK(weft_ctx_cancel(c2)); /* idempotent */
  CHECK_OK(weft_ctx_cancel(c1));
  CHECK_CODE(weft_ctx_wait(c1), WEFT_ECANCELED);
  for (int i = 0; i < 3; i++) CHECK_OK(weft_ctx_release(all[i]));
}

static void parent_finishes_child(void) {
  weft_ctx_t *parent, *cancel_child, *timer_child, *value_child, *grandchild;
  static int key;
  CHECK_OK(weft_ctx_with_cancel(NULL, &parent));
  CHECK_OK(weft_ctx_with_cancel(parent, &cancel_child));
  CHECK_OK(weft_ctx_with_timeout(parent, 3600LL * 1000000000, &timer_child));
  CHECK_OK(weft_ctx_with_value(parent, &key, &key, NULL, &value_child));
  CHECK_OK(weft_ctx_with_cancel(value_child, &grandchild));
  CHECK_OK(weft_ctx_err(grandchild));
  CHECK_OK(weft_ctx_cancel_cause(parent, 42));
  weft_ctx_t *all[5] = {parent, cancel_child, timer_child, value_child, grandchild};
  for (int i = 0; i < 5; i++) {
    CHECK_CODE(weft_ctx_err(all[i]), WEFT_ECANCELED);
    CHECK(weft_ctx_cause(all[i]) == 42);
    CHECK_CODE(weft_chan_recv(weft_ctx_done(all[i]), NULL), WEFT_ECLOSED);
  }
  /* a child of a canceled parent is canceled at once */
  weft_ctx_t *late;
  CHECK_OK(weft_ctx_with_cancel(parent, &late));
  CHECK_CODE(weft_ctx_err(late), WEFT_ECANCELED);
  CHECK(weft_ctx_cause(late) == 42);
  CHECK_OK(weft_ctx_release(late));
  for (int i = 0; i < 5; i++) CHECK_OK(weft_ctx_release(all[i]));
}

static void child_finishes_first(void) {
  weft_ctx_t *parent, *child;
  CHECK_OK(weft_ctx_with_cancel(NULL, &parent));
  CHECK_OK(weft_ctx_with_cancel(parent, &child));
  CHECK_OK(weft_ctx_cancel(child));
  CHECK_CODE(weft_ctx_err(child), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_err(parent));
  CHECK_CODE(weft_chan_try_recv(weft_ctx_done(parent), NULL), WEFT_EAGAIN);
  CHECK_OK(weft_ctx_release(child));
  CHECK_OK(weft_ctx_cancel(parent));
  CHECK_OK(weft_ctx_release(parent));
}

static void layers_cancel(void) {
  static int k1, k2;
  weft_ctx_t *c[8];
  weft_ctx_t *cur = weft_ctx_background();
  for (int i = 0; i < 8; i++) {
    switch (i % 3) {
    case 0: CHECK_OK(weft_ctx_with_value(cur, (i & 1) ? &k1 : &k2, (void *)(intptr_t)(i + 1), NULL, &c[i])); break;
    case 1: CHECK_OK(weft_ctx_with_cancel(cur, &c[i])); break;
    case 2: CHECK_OK(weft_ctx_with_timeout(cur, 3600LL * 1000000000, &c[i])); break;
    }
    cur = c[i];
  }
  CHECK_OK(weft_ctx_err(cur));
  CHECK(weft_ctx_value(cur, &k2) != NULL);
  CHECK_OK(weft_ctx_cancel(c[1])); /* the first cancelable layer */
  for (int i = 0; i < 8; i++) {
    if (i == 0) CHECK_OK(weft_ctx_err(c[i]));
    else CHECK_CODE(weft_ctx_err(c[i]), WEFT_ECANCELED);
  }
  for (int i = 7; i >= 0; i--) CHECK_OK(weft_ctx_release(c[i]));
}

static void bad_input(void) {
  weft_ctx_t *c;
  CHECK_CODE(weft_ctx_cancel(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_ctx_cancel(weft_ctx_background()), WEFT_EINVAL);
  CHECK_OK(weft_ctx_err(NULL));
  CHECK_OK(weft_ctx_err(weft_ctx_background()));
  CHECK(weft_ctx_done(NULL) == NULL);
  CHECK(weft_ctx_retain(weft_ctx_background()) == weft_ctx_background());
  CHECK_OK(weft_ctx_release(weft_ctx_background()));
  CHECK_CODE(weft_ctx_release(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_ctx_with_cancel(NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_ctx_with_value(NULL, NULL, NULL, NULL, &c), WEFT_EINVAL);
  CHECK_CODE(weft_ctx_wait(NULL), WEFT_EDEADLK); /* background never ends */
  static int key;
  CHECK_OK(weft_ctx_with_value(NULL, &key, NULL, NULL, &c));
  CHECK_CODE(weft_ctx_cancel(c), WEFT_EINVAL);
  CHECK(weft_ctx_done(c) == NULL);
  CHECK_OK(weft_ctx_release(c));
  CHECK_OK(weft_ctx_with_cancel(NULL, &c));
  CHECK(weft_ctx_retain(c) == c);
  CHECK_OK(weft_ctx_release(c));
  CHECK_OK(weft_ctx_release(c));
}

static void without_cancel(void) {
  static int key;
  weft_ctx_t *parent, *v, *wc, *child;
  CHECK_OK(weft_ctx_with_timeout(NULL, 3600LL * 1000000000, &parent));
  CHECK_OK(weft_ctx_with_value(parent, &key, &key, NULL, &v));
  CHECK_OK(weft_ctx_without_cancel(v, &wc));
  CHECK_OK(weft_ctx_with_cancel(wc, &child));
  CHECK(weft_ctx_value(wc, &key) == &key);
  CHECK(weft_ctx_deadline(wc, NULL) == 0);
  CHECK(weft_ctx_deadline(v, NULL) == 1);
  CHECK_CODE(weft_ctx_cancel(wc), WEFT_EINVAL);
  CHECK_OK(weft_ctx_cancel(parent));
  CHECK_CODE(weft_ctx_err(v), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_err(wc));
  CHECK_OK(weft_ctx_err(child));
  CHECK(weft_ctx_done(wc) == NULL);
  CHECK_OK(weft_ctx_cancel(child));
  weft_ctx_t *all[4] = {child, wc, v, parent};
  for (int i = 0; i < 4; i++) CHECK_OK(weft_ctx_release(all[i]));
}

static atomic_int passed;

static void all_tests(void) {
  with_cancel();
  parent_finishes_child();
  child_finishes_first();
  layers_cancel();
  bad_input();
  without_cancel();
}

static void in_task(void *arg) {
  (void)arg;
  all_tests();
  atomic_store(&passed, 1);
}

int main(void) {
  all_tests();
  CHECK_OK(weft_go(in_task, NULL));
  while (!atomic_load(&passed)) weft_sleep_ns(1000000);
  CHECK_OK(weft_shutdown());
  return 0;
}
