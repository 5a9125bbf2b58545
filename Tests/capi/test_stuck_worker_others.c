/* Stuck workers, progress: two tasks blocked in system calls (sleep(1) and a
 * read() of a pipe written a second later) do not stop 1,000 other tasks, which
 * pass a token around a ring of channels and finish long before the blockers
 * wake up, at every worker count. */
#define _DEFAULT_SOURCE /* usleep */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#define RING 1000
#define LAPS 20

static int fds[2];
static weft_chan_t *ring[RING];
static atomic_int blocked;
static atomic_llong ring_done_ns;

static void sleeper(void *arg) {
  (void)arg;
  atomic_fetch_add(&blocked, 1);
  sleep(1);
}

static void reader(void *arg) {
  (void)arg;
  atomic_fetch_add(&blocked, 1);
  char c;
  CHECK(read(fds[0], &c, 1) == 1);
}

static void hop(void *arg) {
  int i = (int)(intptr_t)arg;
  int v;
  for (int lap = 0; lap < LAPS; lap++) {
    CHECK_OK(weft_chan_recv(ring[i], &v));
    v++;
    if (i == RING - 1 && lap == LAPS - 1) {
      CHECK(v == RING * LAPS);
      atomic_store(&ring_done_ns, weft_now_ns());
      return;
    }
    CHECK_OK(weft_chan_send(ring[(i + 1) % RING], &v));
  }
}

int main(void) {
  CHECK(pipe(fds) == 0);
  CHECK_OK(weft_init(NULL));
  for (int i = 0; i < RING; i++) CHECK_OK(weft_chan_make(sizeof(int), 1, &ring[i]));
  CHECK_OK(weft_go(sleeper, NULL));
  CHECK_OK(weft_go(reader, NULL));
  while (atomic_load(&blocked) < 2) usleep(1000);
  int64_t start = weft_now_ns();
  for (int i = 0; i < RING; i++) CHECK_OK(weft_go(hop, (void *)(intptr_t)i));
  int v = 0;
  CHECK_OK(weft_chan_send(ring[0], &v));
  while (atomic_load(&ring_done_ns) == 0 && weft_now_ns() - start < 900 * 1000000LL) usleep(1000);
  int64_t took = atomic_load(&ring_done_ns) - start;
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  printf("%u workers, 2 blocked: %d hops in %.1f ms\n", st.workers, RING * LAPS, took / 1e6);
  CHECK(atomic_load(&ring_done_ns) != 0); /* finished while both still blocked */
  CHECK(weft_now_ns() - start < 1000 * 1000000LL);
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK_OK(weft_shutdown()); /* both come back and finish within the grace */
  for (int i = 0; i < RING; i++) CHECK_OK(weft_chan_release(ring[i]));
  return 0;
}
