/* A non-blocking send that drops when full (Go: `select { case ch <- v: default: dropped++ }`):
 * a fast producer offers events to a slow consumer through a small buffer and
 * never waits; whatever does not fit is counted as dropped.
 * Usage: chan_dropping [--test] */
#include "weft.h"

#include <stdio.h>
#include <string.h>

enum { EVENTS = 100000 };

typedef struct {
  weft_chan_t *events;
  int64_t received;
} sink;

static void slow_consumer(void *arg) {
  sink *s = arg;
  int v;
  while (weft_chan_recv(s->events, &v) == 0) {
    s->received++;
    if (s->received % 64 == 0) weft_sleep_ns(100000); /* slow */
  }
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  sink s = {0};
  weft_chan_make(sizeof(int), 16, &s.events);
  weft_go(slow_consumer, &s);
  int64_t sent = 0, dropped = 0;
  for (int i = 0; i < EVENTS; i++) {
    weft_case send[1] = {{s.events, WEFT_CASE_SEND, &i, 0}};
    if (weft_select(send, 1, WEFT_SELECT_DEFAULT, WEFT_NO_DEADLINE) == 0) sent++;
    else dropped++; /* WEFT_EAGAIN: full, move on (weft_chan_try_send does the same) */
  }
  weft_chan_close(s.events);
  /* wait until the consumer drained what was sent */
  while (__atomic_load_n(&s.received, __ATOMIC_SEQ_CST) < sent) weft_sleep_ns(1000000);
  printf("offered %d, sent %lld, dropped %lld, received %lld\n", EVENTS, (long long)sent,
         (long long)dropped, (long long)s.received);
  weft_chan_release(s.events);
  return sent + dropped == EVENTS && s.received == sent && dropped > 0 ? 0 : 1;
}
