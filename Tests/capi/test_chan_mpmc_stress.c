/* MPMC stress with checksums: 8 producers x 8 consumers move 1e6 values over
 * capacities 0, 1 and 1024; producers and consumers are half tasks, half
 * threads. Every value is seen exactly once (a bitmap of atomic ORs), the sum
 * matches, and per-producer order is FIFO at every consumer. */
#include "chan_test_util.h"

#include <string.h>

enum { PRODUCERS = 8, CONSUMERS = 8, TOTAL = 1000000, PER = TOTAL / PRODUCERS };

typedef struct {
  weft_chan_t *ch;
  int id;
  uint64_t *bitmap;
  uint64_t sum;
  int64_t count;
} role_t;

static void producer(void *raw) {
  role_t *r = raw;
  for (int64_t i = 0; i < PER; i++) {
    int64_t v = (int64_t)r->id * PER + i;
    CHECK_OK(weft_chan_send(r->ch, &v));
  }
}

static void consumer(void *raw) {
  role_t *r = raw;
  int64_t last[PRODUCERS];
  for (int p = 0; p < PRODUCERS; p++) last[p] = -1;
  int64_t v;
  int rc;
  while ((rc = weft_chan_recv(r->ch, &v)) == 0) {
    CHECK(v >= 0 && v < TOTAL);
    int p = (int)(v / PER);
    CHECK(v > last[p]); /* FIFO per sender */
    last[p] = v;
    uint64_t bit = 1ull << (v % 64);
    uint64_t old = __atomic_fetch_or(&r->bitmap[v / 64], bit, __ATOMIC_RELAXED);
    CHECK(!(old & bit)); /* never duplicated */
    r->sum += (uint64_t)v;
    r->count++;
  }
  CHECK_CODE(rc, WEFT_ECLOSED);
}

int main(int argc, char **argv) {
  (void)argv;
  size_t caps[] = {0, 1, 1024};
  for (size_t c = 0; c < 3; c++) {
    int64_t t0 = weft_now_ns();
    weft_chan_t *ch;
    CHECK_OK(weft_chan_make(sizeof(int64_t), caps[c], &ch));
    uint64_t *bitmap = calloc(TOTAL / 64 + 1, sizeof(uint64_t));
    role_t prod[PRODUCERS], cons[CONSUMERS];
    weft_chan_t *pdone = make_done(PRODUCERS), *cdone = make_done(CONSUMERS);
    for (int i = 0; i < CONSUMERS; i++) {
      cons[i] = (role_t){ch, i, bitmap, 0, 0};
      spawn_in(mixed_mode(i), consumer, &cons[i], cdone);
    }
    for (int i = 0; i < PRODUCERS; i++) {
      prod[i] = (role_t){ch, i, bitmap, 0, 0};
      spawn_in(mixed_mode(i + 1), producer, &prod[i], pdone);
    }
    wait_done(pdone, PRODUCERS);
    CHECK_OK(weft_chan_close(ch));
    wait_done(cdone, CONSUMERS);
    uint64_t sum = 0;
    int64_t count = 0;
    for (int i = 0; i < CONSUMERS; i++) {
      sum += cons[i].sum;
      count += cons[i].count;
    }
    CHECK(count == TOTAL); /* never lost */
    CHECK(sum == (uint64_t)TOTAL * (TOTAL - 1) / 2);
    for (int i = 0; i < TOTAL / 64; i++) CHECK(bitmap[i] == ~0ull);
    printf("cap %zu: %d values in %.0f ms\n", caps[c], TOTAL, (weft_now_ns() - t0) / 1e6);
    free(bitmap);
    CHECK_OK(weft_chan_release(ch));
    CHECK_OK(weft_chan_release(pdone));
    CHECK_OK(weft_chan_release(cdone));
  }
  (void)argc;
  return 0;
}
