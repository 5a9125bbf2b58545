/* Weft's flagship demo: what Go's concurrency model looks like from C.
 *
 * Part 1. 100,000 simulated requests, each taking a random 0-4 s, run as tasks
 * under one context with a 2 s timeout (and Ctrl-C, through a signal context).
 * Each request waits in a select on either its own timer or the context's done
 * channel; every result comes back through one channel, partial success included.
 * Part 2. An errgroup of 10,000 requests, at most 1,000 at a time: the first
 * failure cancels the group's context and every sibling stops.
 *
 *   make demo                       (demo [--tasks N] [--timeout-ms MS])
 */
#include "weft.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILED (-1000) /* a request's own error (a simulated bad response) */

typedef struct {
  int64_t id;
  int status;       /* 0 completed, FAILED, or the context's error */
  int64_t late_ns;  /* canceled: how long after the cancellation it noticed */
} result_t;

typedef struct {
  weft_ctx_t *ctx;
  weft_chan_t *results;
  int64_t id;
  int64_t work_ns;
} request_t;

static _Atomic int64_t canceled_at; /* when the root context ended */

static void note_cancel(void *arg) {
  (void)arg;
  atomic_store(&canceled_at, weft_now_ns());
}

/* The heart of it: wait for either the work (a timer) or the context. */
static void request(void *arg) {
  request_t *req = arg;
  result_t res = {.id = req->id};
  weft_chan_t *work;
  if (weft_after(req->work_ns, &work) != 0) abort();
  int64_t fired;
  weft_case cases[2] = {
      {.chan = weft_ctx_done(req->ctx), .op = WEFT_CASE_RECV},
      {.chan = work, .op = WEFT_CASE_RECV, .elem = &fired},
  };
  int which = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  if (which == 1) {
    res.status = req->id % 50 == 7 ? FAILED : 0; /* 2% fail */
  } else {
    res.status = weft_ctx_err(req->ctx);
    int64_t deadline, at = atomic_load(&canceled_at);
    if (res.status == WEFT_ETIMEDOUT && weft_ctx_deadline(req->ctx, &deadline) == 1) at = deadline;
    res.late_ns = at ? weft_now_ns() - at : 0;
  }
  weft_timer_stop(work); /* no-op if it fired; frees the timer now if not */
  weft_chan_release(work);
  weft_chan_send(req->results, &res);
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static long peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

/* ---- part 2: errgroup -------------------------------------------------- */

static atomic_long group_completed, group_stopped;

static int group_request(weft_ctx_t *ctx, void *arg) {
  intptr_t id = (intptr_t)arg;
  weft_chan_t *work;
  weft_after((int64_t)(rand_r(&(unsigned){(unsigned)id}) % 400) * 1000000, &work);
  weft_case cases[2] = {{.chan = weft_ctx_done(ctx), .op = WEFT_CASE_RECV},
                        {.chan = work, .op = WEFT_CASE_RECV}};
  int which = weft_select(cases, 2, 0, WEFT_NO_DEADLINE);
  weft_timer_stop(work);
  weft_chan_release(work);
  if (which == 0) {
    atomic_fetch_add(&group_stopped, 1);
    return weft_ctx_err(ctx);
  }
  if (id == 4242) return FAILED; /* the one that fails */
  atomic_fetch_add(&group_completed, 1);
  return 0;
}

int main(int argc, char **argv) {
  long n = 100000, group_n = 10000;
  int64_t timeout_ms = 2000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--test") == 0) { n = 20000; group_n = 5000; timeout_ms = 500; }
    else if (strcmp(argv[i], "--tasks") == 0 && i + 1 < argc) n = atol(argv[++i]);
    else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) timeout_ms = atol(argv[++i]);
  }
  int64_t max_work_ns = 2 * timeout_ms * 1000000; /* so about half finish in time */

  printf("weft %s — Go's concurrency model, from C\n\n", weft_version_string());
  printf("1. %ld requests (random 0-%.1f s each) under one %.1f s timeout; Ctrl-C cancels early\n",
         n, max_work_ns / 1e9, timeout_ms / 1e3);

  weft_ctx_t *root, *ctx;
  weft_ctx_with_signals(weft_ctx_background(), &root);
  weft_ctx_with_timeout(root, timeout_ms * 1000000, &ctx);
  weft_after_func_t *watch;
  weft_ctx_after_func(ctx, note_cancel, NULL, &watch);
  weft_chan_t *results;
  weft_chan_make(sizeof(result_t), (size_t)n, &results);
  request_t *reqs = calloc((size_t)n, sizeof *reqs);
  srand(1);

  int64_t start = weft_now_ns();
  for (long i = 0; i < n; i++) {
    reqs[i] = (request_t){ctx, results, i, (int64_t)((double)rand() / RAND_MAX * max_work_ns)};
    int rc = weft_go(request, &reqs[i]);
    if (rc != 0) { fprintf(stderr, "weft_go: %s\n", weft_strerror(rc)); return 1; }
  }
  int64_t spawned = weft_now_ns();
  long completed = 0, canceled = 0, failed = 0, timed_out = 0;
  int64_t *late = malloc((size_t)n * sizeof *late);
  for (long i = 0; i < n; i++) { /* the main thread blocks on the channel */
    result_t res;
    weft_chan_recv(results, &res);
    if (res.status == 0) completed++;
    else if (res.status == FAILED) failed++;
    else { late[canceled++] = res.late_ns; if (res.status == WEFT_ETIMEDOUT) timed_out++; }
  }
  int64_t end = weft_now_ns();
  qsort(late, (size_t)canceled, sizeof *late, cmp64);
  printf("   completed %ld, failed %ld, canceled %ld (%s)\n", completed, failed, canceled,
         timed_out == canceled ? "deadline exceeded" : "interrupted");
  printf("   elapsed %.0f ms (spawning %.0f ms); cancellation reached every waiting task:\n",
         (end - start) / 1e6, (spawned - start) / 1e6);
  if (canceled)
    printf("   median %.2f ms, last %.2f ms after the deadline\n", late[canceled / 2] / 1e6,
           late[canceled - 1] / 1e6);

  printf("\n2. errgroup: %ld requests, at most 1,000 at a time; request 4242 fails\n", group_n);
  weft_group_t *g;
  weft_ctx_t *gctx;
  weft_group_make(weft_ctx_background(), &g, &gctx);
  weft_group_set_limit(g, 1000);
  start = weft_now_ns();
  long started = 0;
  for (intptr_t i = 0; i < group_n; i++) {
    if (weft_ctx_err(gctx) != 0) break; /* stop launching once the group failed */
    weft_group_go(g, group_request, (void *)i);
    started++;
  }
  int first = weft_group_wait(g);
  printf("   wait returned %s after %.0f ms: %ld started, %ld completed, %ld stopped by the "
         "group's cancellation\n",
         first == FAILED ? "the failure" : weft_strerror(first), (weft_now_ns() - start) / 1e6,
         started, atomic_load(&group_completed), atomic_load(&group_stopped));
  weft_group_release(g);

  weft_after_func_release(watch);
  weft_ctx_release(ctx);
  weft_ctx_release(root);
  weft_chan_release(results);
  free(reqs);
  free(late);

  weft_stats st = {.size = sizeof st};
  for (int i = 0; i < 1000; i++) { /* let the last tasks finish exiting */
    weft_stats_get(&st);
    if (st.tasks_live == 0) break;
    weft_sleep_ns(1000000);
  }
  printf("\npeak RSS %.1f MiB; runtime: %u workers, %llu tasks spawned, %llu live, %llu parked, "
         "%llu timers pending, %llu context switches, %llu steals\n",
         peak_rss_kb() / 1024.0, st.workers, (unsigned long long)st.tasks_spawned,
         (unsigned long long)st.tasks_live, (unsigned long long)st.tasks_parked,
         (unsigned long long)st.timers_pending, (unsigned long long)st.switches,
         (unsigned long long)st.steals);
  int rc = weft_shutdown();
  int ok = rc == 0 && st.tasks_live == 0 && completed + failed + canceled == n && failed > 0 &&
           first == FAILED;
  printf("%s\n", ok ? "nothing leaked: every task ended." : "CHECK FAILED");
  return ok ? 0 : 1;
}
