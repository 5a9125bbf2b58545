/* Fan-out / fan-in: a feeder hands jobs to W workers over one channel; the
 * workers send results into one results channel, which a closer task closes
 * once every worker has finished (a "done" channel counts them: the join);
 * main ranges over the results until closed.
 * Usage: chan_fanout [--test] */
#include "weft.h"

#include <stdio.h>
#include <string.h>

enum { WORKERS = 8 };

typedef struct {
  weft_chan_t *jobs, *results, *finished;
  int64_t njobs;
} pool;

static void feeder(void *arg) {
  pool *p = arg;
  for (int64_t i = 1; i <= p->njobs; i++) weft_chan_send(p->jobs, &i);
  weft_chan_close(p->jobs); /* workers drain it, then see closed */
}

static void worker(void *arg) {
  pool *p = arg;
  int64_t job;
  while (weft_chan_recv(p->jobs, &job) == 0) {
    int64_t r = job * job;
    weft_chan_send(p->results, &r);
  }
  weft_chan_send(p->finished, NULL);
}

static void closer(void *arg) { /* the join: wait for every worker */
  pool *p = arg;
  for (int i = 0; i < WORKERS; i++) weft_chan_recv(p->finished, NULL);
  weft_chan_close(p->results);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  pool p = {.njobs = test ? 10000 : 1000000};
  weft_chan_make(sizeof(int64_t), 64, &p.jobs);
  weft_chan_make(sizeof(int64_t), 64, &p.results);
  weft_chan_make(0, WORKERS, &p.finished);
  weft_go(feeder, &p);
  for (int i = 0; i < WORKERS; i++) weft_go(worker, &p);
  weft_go(closer, &p);
  int64_t sum = 0, count = 0, r;
  while (weft_chan_recv(p.results, &r) == 0) {
    sum += r;
    count++;
  }
  int64_t n = p.njobs;
  printf("%lld results from %d workers, sum %lld\n", (long long)count, WORKERS, (long long)sum);
  weft_chan_release(p.jobs);
  weft_chan_release(p.results);
  weft_chan_release(p.finished);
  return count == n && sum == n * (n + 1) * (2 * n + 1) / 6 ? 0 : 1;
}
