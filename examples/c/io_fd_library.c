/* Plugging a non-blocking library into tasks through fd readiness. The
 * "library" here is a small line reader over a non-blocking fd, shaped like
 * hiredis' or libpq's async interfaces: it exposes its fd, says whether it
 * needs the fd readable, and makes progress without ever blocking. A producer
 * on a plain OS thread writes numbered lines into a pipe; a task drives the
 * library with weft_fd_wait, so its worker keeps running other tasks.
 * Usage: io_fd_library [--test] [lines]   (default 100000) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "weft.h"

/* ---- the "library": never blocks, reports what it waits for ---- */
typedef struct {
  int fd;
  char buf[8192];
  size_t len;
  int eof;
} linereader;

/* One complete line into out (NUL-terminated): 1; 0 when it needs more input
 * (wait for the fd to be readable); -1 at end of input. */
static int linereader_next(linereader *r, char *out, size_t cap) {
  for (;;) {
    char *nl = memchr(r->buf, '\n', r->len);
    if (nl) {
      size_t n = (size_t)(nl - r->buf);
      if (n >= cap) n = cap - 1;
      memcpy(out, r->buf, n);
      out[n] = 0;
      r->len -= (size_t)(nl - r->buf) + 1;
      memmove(r->buf, nl + 1, r->len);
      return 1;
    }
    if (r->eof) return -1;
    ssize_t got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
    if (got > 0) r->len += (size_t)got;
    else if (got == 0) r->eof = 1;
    else if (errno == EAGAIN) return 0;
    else return -1;
  }
}

/* ---- the producer thread ---- */
static int lines = 100000;
static void *producer(void *arg) {
  int fd = (int)(intptr_t)arg;
  char line[32];
  for (int i = 1; i <= lines; i++) {
    int n = snprintf(line, sizeof line, "%d\n", i);
    if (write(fd, line, (size_t)n) != n) break; /* blocking fd: waits for the reader */
  }
  close(fd); /* the reader sees end of input */
  return NULL;
}

/* ---- the task that drives the library ---- */
static atomic_long sum, count, waits;
static atomic_int done, ticks;

static void consumer(void *arg) {
  linereader *r = arg;
  char line[32];
  for (;;) {
    int rc = linereader_next(r, line, sizeof line);
    if (rc < 0) break;
    if (rc == 0) {
      atomic_fetch_add(&waits, 1);
      int w = weft_fd_wait(r->fd, WEFT_FD_READABLE); /* parks this task only */
      if (w < 0) {
        fprintf(stderr, "wait: %s\n", weft_strerror(w));
        break;
      }
      continue;
    }
    atomic_fetch_add(&sum, atol(line));
    atomic_fetch_add(&count, 1);
  }
  atomic_store(&done, 1);
}

/* Proof that the worker stays free: a task that ticks every millisecond. */
static void ticker(void *arg) {
  (void)arg;
  while (!atomic_load(&done)) {
    weft_sleep_ns(1000000);
    atomic_fetch_add(&ticks, 1);
  }
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  if (argc > 1 && !test) lines = atoi(argv[1]);
  if (test) lines = 20000;
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 1; /* one worker: the consumer must not block it */
  weft_init(&cfg);
  int p[2];
  if (pipe(p) != 0) return 1;
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  linereader r = {.fd = p[0]};
  weft_go(consumer, &r);
  weft_go(ticker, NULL);
  pthread_t t;
  pthread_create(&t, NULL, producer, (void *)(intptr_t)p[1]);
  while (!atomic_load(&done)) weft_sleep_ns(1000000);
  pthread_join(t, NULL);
  weft_fd_close(p[0]); /* stops watching it on the loops, then close(2) */
  long want = (long)lines * (lines + 1) / 2;
  printf("%ld lines, sum %ld (want %ld), %ld waits on the fd, %d ticks of a task on the same worker\n",
         atomic_load(&count), atomic_load(&sum), want, atomic_load(&waits), atomic_load(&ticks));
  int ok = atomic_load(&count) == lines && atomic_load(&sum) == want && atomic_load(&waits) > 0;
  return weft_shutdown() == 0 && (!test || ok) ? 0 : 1;
}
