/* Stuck workers, shutdown: weft_shutdown returns at its grace period (within
 * 100 ms more) while one task spins forever without calling into the runtime
 * and another is blocked in read() of a pipe nobody writes. Their worker
 * threads are abandoned (WEFT_ETIMEDOUT); other tasks were still served. */
#define _DEFAULT_SOURCE /* usleep */
#include "check.h"

#include <stdatomic.h>
#include <unistd.h>

#define GRACE_NS (200 * 1000000LL)

static int fds[2];
static atomic_int started;
static atomic_int finished;

static void spinner(void *arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  for (volatile unsigned long i = 0;; i++) {
  }
}

static void reader(void *arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  char c;
  (void)read(fds[0], &c, 1);
}

static void sleeper(void *arg) {
  (void)arg;
  weft_sleep_ns(20 * 1000000LL);
  atomic_fetch_add(&finished, 1);
}

int main(void) {
  CHECK(pipe(fds) == 0);
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.shutdown_grace_ns = GRACE_NS;
  CHECK_OK(weft_init(&cfg));
  CHECK_OK(weft_go(spinner, NULL));
  CHECK_OK(weft_go(reader, NULL));
  while (atomic_load(&started) < 2) usleep(1000);
  for (int i = 0; i < 100; i++) CHECK_OK(weft_go(sleeper, NULL));
  usleep(30 * 1000);
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_shutdown(), WEFT_ETIMEDOUT);
  int64_t took = weft_now_ns() - start;
  printf("shutdown took %.1f ms (grace %lld ms)\n", took / 1e6, GRACE_NS / 1000000);
  CHECK(atomic_load(&finished) == 100);
  CHECK(took >= GRACE_NS && took <= GRACE_NS + 100 * 1000000LL);
  CHECK_OK(weft_shutdown()); /* idempotent */
  return 0;
}
