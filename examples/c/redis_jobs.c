/* A distributed work queue with libweft_redis (include/weft_redis.h): one
 * program, three roles, so several processes can share one queue.
 *   redis_jobs produce N [--port P] [--stream S] [--maxlen M] [--kind K]
 *       enqueues jobs job-0..job-N-1 (kind: t trivial, s<ms> sleep, p poison)
 *   redis_jobs work NAME [--port P] [--stream S] [--tasks T] [--timeout-ms X]
 *                        [--claim-ms C] [--tries N]
 *       runs a consumer until SIGINT/SIGTERM, then prints its counters
 *   redis_jobs collect N [--port P] [--stream S] [--wait-s W]
 *       waits for every job's result (partial success at the deadline) and
 *       checks each is the expected one: prints ok/dead/missing, exit 0 when
 *       every job has a result
 * Job kinds: "t" returns "ok:<id>"; "s<ms>" waits ms milliseconds (parking,
 * under the job's context) then returns "ok:<id>"; "p" always fails. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "weft.h"
#include "weft_redis.h"
#include <hiredis/hiredis.h> /* weft_redis_reply is hiredis' redisReply */

static int port = 6379;
static const char *stream = "jobs";
static int64_t maxlen = 0;
static const char *kind = "t";
static int tasks = 100, tries = 3;
static int64_t timeout_ms = 10000, claim_ms = 2000, wait_s = 60;

static int job(weft_ctx_t *ctx, const char *id, const void *data, size_t len, char *out, size_t *out_len,
               void *arg) {
  (void)arg;
  const char *d = data;
  if (len >= 1 && d[0] == 'p') {
    *out_len = (size_t)snprintf(out, *out_len, "poison job %s", id);
    return WEFT_EINVAL;
  }
  if (len >= 2 && d[0] == 's') {
    weft_ctx_t *t;
    if (weft_ctx_with_timeout(ctx, (int64_t)atoi(d + 1) * 1000000, &t) == 0) {
      weft_ctx_wait(t); /* parks: the worker runs other jobs meanwhile */
      weft_ctx_release(t);
    }
    if (weft_ctx_err(ctx)) return weft_ctx_err(ctx);
  }
  *out_len = (size_t)snprintf(out, *out_len, "ok:%s", id);
  return 0;
}

static weft_redis_opts copts;

static int produce(long n) {
  weft_redis_conn_t *c;
  int rc = weft_redis_conn_open_until(&copts, weft_now_ns() + 5000000000LL, &c);
  if (rc) { fprintf(stderr, "connect: %s\n", weft_redis_strerror(rc)); return 1; }
  int64_t t0 = weft_now_ns();
  for (long i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "job-%ld", i);
    rc = weft_redis_enqueue_until(c, stream, maxlen, id, kind, strlen(kind), weft_now_ns() + 60000000000LL);
    if (rc) { fprintf(stderr, "enqueue %s: %s (%s)\n", id, weft_redis_strerror(rc), weft_redis_conn_errstr(c)); return 1; }
  }
  double s = (weft_now_ns() - t0) / 1e9;
  printf("produced %ld jobs in %.2f s (%.0f jobs/s)\n", n, s, n / s);
  weft_redis_conn_close(c);
  return 0;
}

static int work(const char *name) {
  weft_ctx_t *ctx;
  if (weft_ctx_with_signals(weft_ctx_background(), &ctx) != 0) return 1;
  weft_redis_worker_opts o;
  weft_redis_worker_opts_init(&o);
  o.stream = stream;
  o.consumer = name;
  o.tasks = tasks;
  o.max_attempts = tries;
  o.job_timeout_ns = timeout_ms * 1000000;
  o.claim_idle_ns = claim_ms * 1000000;
  o.grace_ns = 2000000000;
  o.fn = job;
  weft_redis_worker_stats st = {.size = sizeof st};
  printf("worker %s: %d tasks\n", name, tasks);
  fflush(stdout);
  int rc = weft_redis_worker_run(&copts, &o, ctx, &st);
  weft_ctx_release(ctx);
  printf("worker %s: rc=%d delivered=%llu claimed=%llu succeeded=%llu duplicates=%llu retried=%llu dead=%llu "
         "timeouts=%llu reconnects=%llu\n",
         name, rc, (unsigned long long)st.delivered, (unsigned long long)st.claimed,
         (unsigned long long)st.succeeded, (unsigned long long)st.duplicates, (unsigned long long)st.retried,
         (unsigned long long)st.dead, (unsigned long long)st.timeouts, (unsigned long long)st.reconnects);
  return rc ? 1 : 0;
}

static int collect(long n) {
  weft_redis_conn_t *c;
  int rc = weft_redis_conn_open_until(&copts, weft_now_ns() + 5000000000LL, &c);
  if (rc) { fprintf(stderr, "connect: %s\n", weft_redis_strerror(rc)); return 1; }
  char **ids = calloc((size_t)n, sizeof *ids), **vals = calloc((size_t)n, sizeof *vals);
  int *errs = calloc((size_t)n, sizeof *errs);
  for (long i = 0; i < n; i++) if (asprintf(&ids[i], "job-%ld", i) < 0) return 1;
  weft_ctx_t *ctx;
  weft_ctx_with_timeout(weft_ctx_background(), wait_s * 1000000000LL, &ctx);
  char results[512];
  snprintf(results, sizeof results, "%s:results", stream);
  int64_t ok = weft_redis_collect_ctx(c, results, (const char *const *)ids, (size_t)n, vals, errs, ctx);
  if (ok < 0) { fprintf(stderr, "collect: %s\n", weft_redis_strerror((int)ok)); return 1; }
  long good = 0, dead = 0, missing = 0, wrong = 0;
  for (long i = 0; i < n; i++) {
    if (errs[i] == 0) {
      char want[40];
      snprintf(want, sizeof want, "ok:%s", ids[i]);
      if (strcmp(vals[i], want) == 0) good++; else wrong++;
    } else if (errs[i] == WEFT_REDIS_EJOB) dead++;
    else { if (missing < 5) fprintf(stderr, "missing %s\n", ids[i]); missing++; }
    free(vals[i]);
    free(ids[i]);
  }
  /* exactly once: one field per job id in the results hash, no extra ones */
  const char *av[2] = {"HLEN", results};
  size_t lv[2] = {4, strlen(results)};
  weft_redis_reply *r;
  long long hlen = -1;
  if (weft_redis_conn_cmd_ctx(c, 2, av, lv, ctx, &r) == 0) hlen = r->integer;
  weft_redis_reply_free(r);
  printf("collected %ld: ok %ld, dead-lettered %ld, missing %ld, wrong %ld, results stored %lld\n", n, good, dead,
         missing, wrong, hlen);
  weft_ctx_release(ctx);
  weft_redis_conn_close(c);
  free(ids); free(vals); free(errs);
  return missing == 0 && wrong == 0 && hlen == n ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: redis_jobs produce N | work NAME | collect N  [options]\n");
    return 2;
  }
  for (int i = 3; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--stream")) stream = v;
    else if (!strcmp(k, "--maxlen")) maxlen = atoll(v);
    else if (!strcmp(k, "--kind")) kind = v;
    else if (!strcmp(k, "--tasks")) tasks = atoi(v);
    else if (!strcmp(k, "--tries")) tries = atoi(v);
    else if (!strcmp(k, "--timeout-ms")) timeout_ms = atoll(v);
    else if (!strcmp(k, "--claim-ms")) claim_ms = atoll(v);
    else if (!strcmp(k, "--wait-s")) wait_s = atoll(v);
    else { fprintf(stderr, "unknown option %s\n", k); return 2; }
  }
  weft_redis_opts_init(&copts);
  copts.port = port;
  int rc;
  if (!strcmp(argv[1], "produce")) rc = produce(atol(argv[2]));
  else if (!strcmp(argv[1], "work")) rc = work(argv[2]);
  else if (!strcmp(argv[1], "collect")) rc = collect(atol(argv[2]));
  else rc = 2;
  weft_shutdown();
  return rc;
}
