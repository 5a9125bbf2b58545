/* Plain threads that block, are woken, and exit at once: the waker may still be
 * inside the wake-up (after the thread saw it) when the thread is gone. Run many
 * of them against tasks and against each other. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

enum { ROUNDS = 400, PAIRS = 8 };

static weft_chan_t *ch;
static atomic_int received;

static void *receive_then_exit(void *arg) {
  (void)arg;
  int v;
  CHECK_OK(weft_chan_recv(ch, &v));
  atomic_fetch_add(&received, 1);
  return NULL;
}

static void send_one(void *arg) {
  (void)arg;
  int v = 1;
  CHECK_OK(weft_chan_send(ch, &v));
}

static void *send_from_thread(void *arg) {
  send_one(arg);
  return NULL;
}

int main(void) {
  CHECK_OK(weft_chan_make(sizeof(int), 0, &ch));
  for (int round = 0; round < ROUNDS; round++) {
    pthread_t receivers[PAIRS], senders[PAIRS];
    for (int i = 0; i < PAIRS; i++)
      CHECK(pthread_create(&receivers[i], NULL, receive_then_exit, NULL) == 0);
    for (int i = 0; i < PAIRS; i++) {
      if (i % 2) CHECK_OK(weft_go(send_one, NULL));
      else CHECK(pthread_create(&senders[i], NULL, send_from_thread, NULL) == 0);
    }
    for (int i = 0; i < PAIRS; i++) pthread_join(receivers[i], NULL);
    for (int i = 0; i < PAIRS; i += 2) pthread_join(senders[i], NULL);
  }
  CHECK(atomic_load(&received) == ROUNDS * PAIRS);
  CHECK_OK(weft_chan_release(ch));
  return 0;
}
