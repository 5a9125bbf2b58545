/* Cancellation of a task tree: a root context, 10 workers each with 10
 * sub-workers on child contexts; one cancel of the root stops all 110 tasks.
 * Usage: ctx_tree [--test] */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "weft.h"

static atomic_int stopped;

static void leaf(void *arg) {
  weft_ctx_t *ctx = arg;
  weft_ctx_wait(ctx); /* real work would select on weft_ctx_done(ctx) */
  atomic_fetch_add(&stopped, 1);
  weft_ctx_release(ctx);
}

static void branch(void *arg) {
  weft_ctx_t *ctx = arg, *sub;
  weft_ctx_with_cancel(ctx, &sub); /* the branch's own subtree */
  for (int i = 0; i < 10; i++) weft_go(leaf, weft_ctx_retain(sub));
  weft_ctx_wait(sub);
  atomic_fetch_add(&stopped, 1);
  weft_ctx_release(sub);
  weft_ctx_release(ctx);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  weft_ctx_t *root;
  weft_ctx_with_cancel(NULL, &root);
  for (int i = 0; i < 10; i++) weft_go(branch, weft_ctx_retain(root));
  weft_sleep_ns(50 * 1000000LL);
  printf("running: 110 tasks; cancelling the root\n");
  weft_ctx_cancel(root);
  int64_t limit = weft_now_ns() + 5000 * 1000000LL;
  while (atomic_load(&stopped) < 110 && weft_now_ns() < limit) weft_sleep_ns(1000000);
  printf("stopped: %d tasks (%s)\n", atomic_load(&stopped), weft_strerror(weft_ctx_err(root)));
  weft_ctx_release(root);
  weft_shutdown();
  return test && atomic_load(&stopped) != 110 ? 1 : 0;
}
