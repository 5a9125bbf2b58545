/* Once under contention: tasks and threads call weft_once_do at the same time;
 * fn runs exactly once and every caller returns only after fn returned (Go's
 * TestOnce semantics). A call from inside fn is WEFT_EDEADLK, not a hang. */
#include "sync_util.h"

static weft_once_t *once;
static atomic_int calls;
static atomic_int built; /* set at the very end of init */
static int *singleton;

static void init(void *arg) {
  CHECK(arg == (void *)&calls);
  atomic_fetch_add(&calls, 1);
  nap_ms(20); /* slow: everyone else must wait */
  singleton = malloc(sizeof *singleton);
  *singleton = 42;
  atomic_store(&built, 1);
}

static void caller(void *raw) {
  (void)raw;
  CHECK_OK(weft_once_do(once, init, &calls));
  CHECK(atomic_load(&built) == 1);
  CHECK(*singleton == 42);
  CHECK(atomic_load(&calls) == 1);
}

static void caller_ctx(void *raw) {
  (void)raw;
  CHECK_OK(weft_once_do_ctx(once, init, &calls, NULL));
  CHECK(atomic_load(&built) == 1);
}

static weft_once_t *inner;
static void recursive(void *arg) {
  (void)arg;
  CHECK_CODE(weft_once_do(inner, recursive, NULL), WEFT_EDEADLK);
  atomic_fetch_add(&calls, 1);
}

static void run_recursive(void *arg) {
  (void)arg;
  CHECK_OK(weft_once_do(inner, recursive, NULL));
}

static void never(void *arg) {
  (void)arg;
  CHECK(0);
}

int main(void) {
  CHECK_CODE(weft_once_make(NULL), WEFT_EINVAL);
  for (int round = 0; round < 3; round++) {
    CHECK_OK(weft_once_make(&once));
    atomic_store(&calls, 0);
    atomic_store(&built, 0);
    free(singleton);
    singleton = NULL;
    if (round == 0) run_mixed(40, 4, caller, NULL);
    else if (round == 1) run_mixed(0, 6, caller, NULL);
    else run_mixed(30, 3, caller_ctx, NULL);
    CHECK(atomic_load(&calls) == 1);
    /* Done: later calls return at once and never call fn. */
    CHECK_OK(weft_once_do(once, never, NULL));
    CHECK_OK(weft_once_do_ctx(once, never, NULL, NULL));
    CHECK_OK(weft_once_release(once));
  }

  /* Recursion from inside fn, on a thread and in a task. */
  CHECK_OK(weft_once_make(&inner));
  atomic_store(&calls, 0);
  CHECK_OK(weft_once_do(inner, recursive, NULL));
  CHECK(atomic_load(&calls) == 1);
  CHECK_OK(weft_once_release(inner));
  CHECK_OK(weft_once_make(&inner));
  atomic_store(&calls, 0);
  run_in_task(run_recursive, NULL);
  CHECK(atomic_load(&calls) == 1);
  CHECK_OK(weft_once_release(inner));

  /* NULL handles and functions. */
  CHECK_OK(weft_once_make(&once));
  CHECK_CODE(weft_once_do(NULL, init, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_once_do(once, NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_once_do_ctx(NULL, init, NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_once_do_ctx(once, NULL, NULL, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_once_release(NULL), WEFT_EINVAL);
  CHECK(weft_once_retain(NULL) == NULL);
  CHECK(weft_once_retain(once) == once);
  CHECK_OK(weft_once_release(once));
  CHECK_OK(weft_once_release(once));
  free(singleton);
  printf("once ok\n");
  return 0;
}
