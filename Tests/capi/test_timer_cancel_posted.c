/* A timer started from a plain thread (its start is posted to a worker) and
 * canceled on that worker before the worker ran the posted start: the entry
 * must stay valid until the start op is done with it. Plain threads make
 * contexts with timeouts under a cancelable parent and hand the parent to
 * tasks that cancel it while they keep their workers busy (yield switches
 * task to task, past the loop top where posted ops are drained). Before the
 * fix the cancel freed the entry at once and the queued start op used it
 * after the free: heap corruption ("unaligned fastbin chunk", issue 13) and
 * lost timers. Runs in a child with glibc's heap checks and freed memory
 * perturbed, so a use after free crashes or reports; timers_pending must come
 * back to 0. */
#define _DEFAULT_SOURCE
#include "child_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define THREADS 2
#define ROUNDS 4000

static weft_chan_t *handoff;
static atomic_int stop;

static void canceller(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    weft_ctx_t *parent = NULL;
    if (weft_chan_try_recv(handoff, &parent) == 0) {
      CHECK(weft_ctx_cancel(parent) == 0);
      CHECK(weft_ctx_release(parent) == 0);
    }
    weft_yield();
  }
}

static void *maker(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    weft_ctx_t *parent = NULL, *child = NULL;
    CHECK(weft_ctx_with_cancel(weft_ctx_background(), &parent) == 0);
    CHECK(weft_ctx_with_timeout(parent, 1000000000LL, &child) == 0);
    CHECK(weft_chan_send(handoff, &parent) == 0);
    if (i % 2) {
      /* Wait for the cancel to reach the child (through the worker). */
      CHECK(weft_ctx_wait(child) == WEFT_ECANCELED);
    }
    CHECK(weft_ctx_release(child) == 0);
  }
  return NULL;
}

static int child_main(void) {
  alarm(60);
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 2;
  CHECK(weft_init(&cfg) == 0);
  CHECK(weft_chan_make(sizeof(weft_ctx_t *), 16, &handoff) == 0);
  for (int i = 0; i < 4; i++) CHECK(weft_go(canceller, NULL) == 0);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, maker, NULL) == 0);
  for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
  atomic_store(&stop, 1);
  weft_stats s;
  int64_t until = weft_now_ns() + 5000000000LL;
  for (;;) {
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    CHECK(weft_stats_get(&s) == 0);
    if (s.tasks_live == 0 && s.timers_pending == 0) break;
    if (weft_now_ns() > until) {
      fprintf(stderr, "%llu live tasks, %llu pending timers left\n", (unsigned long long)s.tasks_live,
              (unsigned long long)s.timers_pending);
      return 1;
    }
    usleep(1000);
  }
  CHECK(weft_shutdown() == 0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) return child_main();
  setenv("MALLOC_CHECK_", "3", 1);
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=3:glibc.malloc.perturb=165", 1);
  static char err[8192];
  for (int run = 0; run < 3; run++) {
    int status = run_child(argv[0], "child", err, sizeof err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0] != 0) {
      fprintf(stderr, "run %d: status 0x%x, stderr: %s\n", run, status, err);
      return 1;
    }
  }
  printf("test_timer_cancel_posted: %d timers canceled around their posted start\n", 3 * THREADS * ROUNDS);
  return 0;
}
