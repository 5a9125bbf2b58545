/* weft-test-cflags: -fno-stack-clash-protection */
/* Stack overflow with large frames that first touch their lowest bytes (the
 * worst case without -fstack-clash-protection, which this file turns off):
 * 24 KiB and 16 KiB frames recursing without bound. The overflow must hit the
 * guard region and abort with Weft's message naming the task, and never write
 * into the stack below: a neighbour task parked on that stack holds a pattern
 * that every frame checks before going deeper. Each case runs in a child
 * process (re-executed with SWIFT_BACKTRACE=enable=no). */
#define _GNU_SOURCE
#include "child_util.h"

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { PATTERN_BYTES = 48 * 1024 };

static volatile unsigned char *pattern;
static atomic_int neighbour_ready;
static weft_chan_t *never;
static size_t frame_bytes;
static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

static void check_neighbour(void) {
  for (size_t i = 0; i < PATTERN_BYTES; i++) {
    if (pattern[i] != (unsigned char)(i * 7 + 3)) {
      fprintf(stderr, "neighbour corrupted at byte %zu\n", i);
      _exit(3);
    }
  }
}

static void neighbour(void *arg) {
  (void)arg;
  volatile unsigned char mine[PATTERN_BYTES];
  for (size_t i = 0; i < PATTERN_BYTES; i++) mine[i] = (unsigned char)(i * 7 + 3);
  pattern = mine;
  atomic_store(&neighbour_ready, 1);
  int v;
  weft_chan_recv(never, &v); /* parked for good */
  mine[0] = 0;
}

#define DEEP(bytes)                                                     \
  static int __attribute__((noinline)) deep_##bytes(int n) {            \
    volatile char frame[bytes];                                         \
    frame[0] = (char)n; /* the lowest byte first */                     \
    check_neighbour();                                                  \
    frame[sizeof frame - 1] = (char)n;                                  \
    if (n >= depth_limit) return 0;                                     \
    return deep_##bytes(n + 1) + frame[0] + frame[sizeof frame - 1];    \
  }
DEEP(24576)
DEEP(16384)

static void overflow(void *arg) {
  (void)arg;
  int r = frame_bytes == 24576 ? deep_24576(0) : deep_16384(0);
  fprintf(stderr, "recursion returned %d\n", r);
  _exit(4);
}

static int child(const char *mode) {
  frame_bytes = (size_t)atoi(mode);
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 1;
  CHECK_OK(weft_init(&cfg));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &never));
  weft_task_opts opts;
  weft_task_opts_init(&opts);
  opts.name = "neighbour";
  CHECK_OK(weft_go_opts(neighbour, NULL, &opts));
  weft_stats st = {.size = sizeof st};
  do {
    sched_yield();
    CHECK_OK(weft_stats_get(&st));
  } while (!atomic_load(&neighbour_ready) || st.tasks_parked < 1);
  opts.name = "deep-recursion";
  CHECK_OK(weft_go_opts(overflow, NULL, &opts));
  weft_sleep_ns(10LL * 1000000000);
  fprintf(stderr, "no overflow within 10 s\n");
  return 5;
}

static void run_case(const char *self, const char *mode) {
  char out[4096];
  int status = run_child(self, mode, out, sizeof out);
  printf("%s-byte frames: %s", mode, out);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(out, "weft: stack overflow in task ") != NULL);
  CHECK(strstr(out, "'deep-recursion'") != NULL);
  CHECK(strstr(out, "corrupted") == NULL);
}

int main(int argc, char **argv) {
  if (argc > 1) return child(argv[1]);
  run_case(argv[0], "24576");
  run_case(argv[0], "16384");
  return 0;
}
