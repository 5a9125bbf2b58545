/* Select with a timeout (Go: `select { case v := <-ch: ... case <-time.After(d): }`):
 * a slow worker answers after 50 ms; we wait 10 ms and give up, then wait
 * 200 ms and get the answer.
 * Usage: chan_timeout [--test] */
#include "weft.h"

#include <stdio.h>
#include <string.h>

static void slow(void *arg) {
  weft_chan_t *reply = arg;
  weft_sleep_ns(50 * 1000000LL);
  int answer = 42;
  weft_chan_send(reply, &answer);
  weft_chan_release(reply);
}

static int wait_for(weft_chan_t *reply, int64_t timeout_ns, int *answer) {
  weft_chan_t *timer;
  weft_after(timeout_ns, &timer);
  int64_t fired_at;
  weft_case cases[2] = {{reply, WEFT_CASE_RECV, answer, 0}, {timer, WEFT_CASE_RECV, &fired_at, 0}};
  int which = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  weft_chan_release(timer); /* an unfired timer is cancelled with its channel */
  return which;
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  weft_chan_t *reply;
  weft_chan_make(sizeof(int), 1, &reply);
  weft_go(slow, weft_chan_retain(reply));
  int answer = 0;
  int first = wait_for(reply, 10 * 1000000LL, &answer);
  printf("after 10 ms: %s\n", first == 1 ? "timed out" : "answered");
  int second = wait_for(reply, 200 * 1000000LL, &answer);
  printf("within 200 ms: %s (%d)\n", second == 0 ? "answered" : "timed out", answer);
  weft_chan_release(reply);
  return first == 1 && second == 0 && answer == 42 ? 0 : 1;
}
