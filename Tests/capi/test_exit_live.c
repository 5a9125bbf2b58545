/* A host that ends the process while the runtime is live (no weft_shutdown):
 * busy tasks (channels, timers, contexts, malloc), plain threads blocked in
 * Weft calls, then the process ends by returning from main, by exit() from
 * main, or by exit() from another thread. Each way runs many times in a child
 * under glibc's heap checks (MALLOC_CHECK_=3, glibc.malloc.check=3); every
 * child must exit 0, with nothing on stderr, within its time limit: no heap
 * corruption, no crash and no hang at exit (issue 13: "unaligned fastbin
 * chunk" / "corrupted unsorted chunks" seen when the fuzzer exited). */
#define _DEFAULT_SOURCE
#include "child_util.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static weft_chan_t *ch;

static void busy(void *arg) {
  (void)arg;
  for (unsigned i = 0;; i++) {
    int64_t v = i;
    (void)weft_chan_send_until(ch, &v, weft_now_ns() + 100000);
    (void)weft_chan_recv_until(ch, &v, weft_now_ns() + 100000);
    weft_ctx_t *c = NULL;
    if (weft_ctx_with_timeout(weft_ctx_background(), 50000, &c) == 0) (void)weft_ctx_release(c);
    free(malloc(64 + (i & 255)));
    weft_yield();
  }
}

static void *blocked(void *arg) {
  (void)arg;
  for (;;) {
    int64_t v;
    (void)weft_chan_recv_until(ch, &v, weft_now_ns() + 200000);
    free(malloc(100));
  }
  return NULL;
}

static void *exiter(void *arg) {
  (void)arg;
  usleep(20000);
  exit(0);
}

static int child(int mode) {
  alarm(10); /* a hang at exit fails the run (SIGALRM) instead of blocking the test */
  CHECK(weft_chan_make(sizeof(int64_t), 2, &ch) == 0);
  for (int i = 0; i < 16; i++) CHECK(weft_go(busy, NULL) == 0);
  pthread_t t;
  for (int i = 0; i < 3; i++) CHECK(pthread_create(&t, NULL, blocked, NULL) == 0);
  if (mode == 2) {
    CHECK(pthread_create(&t, NULL, exiter, NULL) == 0);
    for (;;) pause();
  }
  usleep(20000);
  if (mode == 1) exit(0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) return child(atoi(argv[1]));
  setenv("MALLOC_CHECK_", "3", 1);
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=3", 1);
  static const char *modes[] = {"0", "1", "2"};
  static const char *names[] = {"return from main", "exit() from main", "exit() from a thread"};
  static char err[8192];
  for (int m = 0; m < 3; m++) {
    for (int i = 0; i < 25; i++) {
      int status = run_child(argv[0], modes[m], err, sizeof err);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0] != 0) {
        fprintf(stderr, "%s, run %d: status 0x%x, stderr: %s\n", names[m], i, status, err);
        return 1;
      }
    }
  }
  printf("test_exit_live: 75 exits with live workers, no corruption\n");
  return 0;
}
