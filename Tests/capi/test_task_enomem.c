/* Spawning with little address space (RLIMIT_AS = 1 GiB, as `ulimit -v`):
 * 100,000 weft_wg_go calls of tasks that park for a while, so their stacks
 * cannot all exist at once. Every call returns 0 or WEFT_ENOMEM (never a task
 * accepted and dropped), wg_wait returns once every accepted task ran, and the
 * runtime keeps working afterwards. Runs in a child process. */
#define _GNU_SOURCE
#include "child_util.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

enum { N = 100000 };

static atomic_long ran;

static void napper(void *arg) {
  (void)arg;
  weft_sleep_ns(300 * 1000000);
  atomic_fetch_add(&ran, 1);
}

static int child(void) {
  struct rlimit lim = {1L << 30, 1L << 30};
  CHECK(setrlimit(RLIMIT_AS, &lim) == 0);
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 16; /* many workers: stealing under low memory */
  CHECK_OK(weft_init(&cfg));
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  long accepted = 0, refused = 0;
  for (long i = 0; i < N; i++) {
    int rc = weft_wg_go(wg, napper, NULL);
    if (rc == 0) {
      accepted++;
    } else {
      CHECK_CODE(rc, WEFT_ENOMEM);
      refused++;
    }
  }
  CHECK_OK(weft_wg_wait(wg));
  printf("accepted %ld, refused %ld, ran %ld\n", accepted, refused, atomic_load(&ran));
  CHECK(atomic_load(&ran) == accepted);
  CHECK(accepted > 0);
  /* Memory came back: a new round of spawns works. */
  atomic_store(&ran, 0);
  for (int i = 0; i < 100; i++) CHECK_OK(weft_wg_go(wg, napper, NULL));
  CHECK_OK(weft_wg_wait(wg));
  CHECK(atomic_load(&ran) == 100);
  weft_wg_release(wg);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) return child();
  char err[4096];
  int status = run_child(argv[0], "child", err, sizeof err);
  fputs(err, stderr);
  if (WIFSIGNALED(status)) fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
