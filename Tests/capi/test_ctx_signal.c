/* Signal context (Go's signal.NotifyContext): SIGTERM raised at ourselves
 * cancels it (cause: the signal number), children too; cancel restores the
 * previous disposition; so does the last release. */
#include "check.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

static volatile sig_atomic_t mine;
static void my_handler(int sig) {
  (void)sig;
  mine++;
}

static void *handler_of(int sig) {
  struct sigaction sa;
  sigaction(sig, NULL, &sa);
  return (void *)sa.sa_handler;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = my_handler;
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGINT, SIG_IGN);

  weft_ctx_t *sig, *child;
  CHECK_OK(weft_ctx_with_signals(NULL, &sig));
  CHECK_OK(weft_ctx_with_cancel(sig, &child));
  CHECK(handler_of(SIGTERM) != (void *)my_handler);
  CHECK_OK(weft_ctx_err(sig));
  raise(SIGTERM);
  CHECK_CODE(weft_ctx_wait(child), WEFT_ECANCELED);
  CHECK_CODE(weft_ctx_err(sig), WEFT_ECANCELED);
  CHECK(weft_ctx_cause(sig) == SIGTERM);
  CHECK(weft_ctx_cause(child) == SIGTERM);
  CHECK(mine == 0);
  /* restored once the (only) watch stopped */
  CHECK(handler_of(SIGTERM) == (void *)my_handler);
  CHECK(handler_of(SIGINT) == (void *)SIG_IGN);
  raise(SIGTERM);
  CHECK(mine == 1);
  CHECK_OK(weft_ctx_release(child));
  CHECK_OK(weft_ctx_release(sig));

  /* SIGINT, from inside a task, two watchers */
  weft_ctx_t *a, *b;
  CHECK_OK(weft_ctx_with_signals(NULL, &a));
  CHECK_OK(weft_ctx_with_signals(NULL, &b));
  raise(SIGINT);
  CHECK_CODE(weft_ctx_wait(a), WEFT_ECANCELED);
  CHECK_CODE(weft_ctx_wait(b), WEFT_ECANCELED);
  CHECK(weft_ctx_cause(a) == SIGINT);
  CHECK(handler_of(SIGINT) == (void *)SIG_IGN);
  CHECK_OK(weft_ctx_release(a));
  CHECK_OK(weft_ctx_release(b));

  /* cancel stops watching; so does the last release */
  CHECK_OK(weft_ctx_with_signals(NULL, &a));
  CHECK(handler_of(SIGTERM) != (void *)my_handler);
  CHECK_OK(weft_ctx_cancel(a));
  CHECK(handler_of(SIGTERM) == (void *)my_handler);
  CHECK_OK(weft_ctx_release(a));
  CHECK_OK(weft_ctx_with_signals(NULL, &a));
  CHECK(handler_of(SIGTERM) != (void *)my_handler);
  CHECK_OK(weft_ctx_release(a));
  CHECK(handler_of(SIGTERM) == (void *)my_handler);
  CHECK_OK(weft_shutdown());
  return 0;
}
