/* Helpers shared by the channel, select and timer tests: run a function in a
 * task or on a plain thread, and wait for a group of them through a channel
 * (so these tests depend on channels alone, not on WaitGroup). */
#ifndef WEFT_CHAN_TEST_UTIL_H
#define WEFT_CHAN_TEST_UTIL_H

#include "check.h"

#include <pthread.h>
#include <stdint.h>

enum { MODE_TASK = 0, MODE_THREAD = 1 };
static const char *const mode_name[] = {"task", "thread"};

typedef struct {
  weft_fn fn;
  void *arg;
  weft_chan_t *done; /* elem_size 0; one send when fn returned */
} runner_;

static void run_body_(void *raw) {
  runner_ *r = raw;
  r->fn(r->arg);
  weft_chan_t *done = r->done;
  free(r);
  CHECK_OK(weft_chan_send(done, NULL));
}

static void *thread_body_(void *raw) {
  run_body_(raw);
  return NULL;
}

/* A channel to count finished runners with (capacity for n of them). */
static inline weft_chan_t *make_done(size_t n) {
  weft_chan_t *done;
  CHECK_OK(weft_chan_make(0, n, &done));
  return done;
}

/* Runs fn(arg) in a task (MODE_TASK) or a new detached thread (MODE_THREAD);
 * sends on done when it returned. */
static inline void spawn_in(int mode, weft_fn fn, void *arg, weft_chan_t *done) {
  runner_ *r = malloc(sizeof *r);
  CHECK(r != NULL);
  r->fn = fn;
  r->arg = arg;
  r->done = done;
  if (mode == MODE_TASK) {
    CHECK_OK(weft_go(run_body_, r));
  } else {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    CHECK(pthread_create(&t, &attr, thread_body_, r) == 0);
    pthread_attr_destroy(&attr);
  }
}

/* Waits for n runners to finish (from the calling thread). */
static inline void wait_done(weft_chan_t *done, int n) {
  for (int i = 0; i < n; i++) CHECK_OK(weft_chan_recv(done, NULL));
}

/* Both: mode i of a mixed run alternates tasks and threads. */
static inline int mixed_mode(int i) { return i % 2; }

#endif
