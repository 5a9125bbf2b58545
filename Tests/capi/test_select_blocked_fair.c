/* A select that blocks with two cases on the same channel queues them in a
 * random order (Go's lockorder), so the peer that arrives later completes
 * either case: two sends on one channel, then two receives. Each round waits
 * until the selecting task is parked, so every round takes the blocked path. */
#include "check.h"

#include <sched.h>
#include <stdatomic.h>

enum { ROUNDS = 400 };

static weft_chan_t *ch;
static int fired[2][2]; /* [phase][case] */
static atomic_int done;

static void selector(void *arg) {
  (void)arg;
  for (int r = 0; r < ROUNDS; r++) { /* phase 0: two sends */
    int a = 0, b = 1;
    weft_case cases[2] = {{ch, WEFT_CASE_SEND, &a, 0}, {ch, WEFT_CASE_SEND, &b, 0}};
    int got = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
    CHECK(got == 0 || got == 1);
    fired[0][got]++;
  }
  for (int r = 0; r < ROUNDS; r++) { /* phase 1: two receives */
    int x = -1, y = -1;
    weft_case cases[2] = {{ch, WEFT_CASE_RECV, &x, 0}, {ch, WEFT_CASE_RECV, &y, 0}};
    int got = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
    CHECK(got == 0 || got == 1);
    CHECK((got == 0 ? x : y) == 7 && (got == 0 ? y : x) == -1);
    fired[1][got]++;
  }
  atomic_store(&done, 1);
}

static void wait_parked(void) {
  weft_stats st = {.size = sizeof st};
  do {
    sched_yield();
    CHECK_OK(weft_stats_get(&st));
  } while (st.tasks_parked < 1);
}

int main(void) {
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 1;
  CHECK_OK(weft_init(&cfg));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &ch));
  CHECK_OK(weft_go(selector, NULL));
  int seen[2] = {0, 0};
  for (int r = 0; r < ROUNDS; r++) {
    wait_parked();
    int v = -1;
    CHECK_OK(weft_chan_recv(ch, &v));
    CHECK(v == 0 || v == 1);
    seen[v]++;
  }
  for (int r = 0; r < ROUNDS; r++) {
    wait_parked();
    int v = 7;
    CHECK_OK(weft_chan_send(ch, &v));
  }
  while (!atomic_load(&done)) sched_yield();
  CHECK(seen[0] == fired[0][0] && seen[1] == fired[0][1]);
  printf("sends: %d/%d, receives: %d/%d\n", fired[0][0], fired[0][1], fired[1][0], fired[1][1]);
  /* Fair: ~200 each. Below 100 of 400 has probability < 1e-20 for a fair coin. */
  for (int p = 0; p < 2; p++)
    for (int c = 0; c < 2; c++) CHECK(fired[p][c] >= 100);
  weft_chan_release(ch);
  return 0;
}
