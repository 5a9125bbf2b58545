/* libweft_redis against a real redis-server (port in argv[1]): bad input,
 * wrong key types, AUTH/SELECT, back-pressure, a poison job, a job over its
 * timeout, the collector's partial success, and a stop whose grace period
 * leaves the unfinished job claimable. Prints "N passed, N failed". */
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "weft.h"
#include "weft_redis.h"

static int passed, failed;
#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    if (cond) passed++;                                                      \
    else { failed++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }              \
  } while (0)
#define EQ(a, b) CHECK((a) == (b), "%s = %lld, want %lld (%s)", #a, (long long)(a), (long long)(b), \
                       weft_redis_strerror((int)(a)))

static weft_redis_opts opts;
static weft_redis_conn_t *c;

static long long cmd_int(const char *a0, const char *a1, const char *a2, const char *a3) {
  const char *av[4] = {a0, a1, a2, a3};
  size_t lv[4] = {strlen(a0), a1 ? strlen(a1) : 0, a2 ? strlen(a2) : 0, a3 ? strlen(a3) : 0};
  int n = a3 ? 4 : a2 ? 3 : a1 ? 2 : 1;
  weft_redis_reply *r;
  int rc = weft_redis_conn_cmd_until(c, n, av, lv, weft_now_ns() + 5000000000LL, &r);
  long long v = rc ? rc : r->type == REDIS_REPLY_INTEGER ? r->integer : r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : 0;
  weft_redis_reply_free(r);
  return v;
}

static int job(weft_ctx_t *ctx, const char *id, const void *data, size_t len, char *out, size_t *out_len, void *arg) {
  (void)arg;
  const char *d = data;
  if (len && d[0] == 'p') { *out_len = (size_t)snprintf(out, *out_len, "cannot digest %s", id); return WEFT_EINVAL; }
  if (len > 1 && d[0] == 's') {
    weft_ctx_t *t;
    weft_ctx_with_timeout(ctx, atoll(d + 1) * 1000000, &t);
    weft_ctx_wait(t);
    weft_ctx_release(t);
    if (weft_ctx_err(ctx)) return weft_ctx_err(ctx);
  }
  *out_len = (size_t)snprintf(out, *out_len, "done %s", id);
  return 0;
}

typedef struct { weft_redis_worker_opts o; weft_ctx_t *ctx; weft_redis_worker_stats st; int rc; weft_wg_t *wg; } run_t;
static void run_task(void *arg) {
  run_t *r = arg;
  r->st.size = sizeof r->st;
  r->rc = weft_redis_worker_run(&opts, &r->o, r->ctx, &r->st);
}
static void start(run_t *r, const char *stream, const char *consumer) {
  weft_redis_worker_opts_init(&r->o);
  r->o.stream = stream;
  r->o.consumer = consumer;
  r->o.fn = job;
  r->o.tasks = 8;
  r->o.job_timeout_ns = 2000000000;
  r->o.claim_idle_ns = 1000000; /* raised to job_timeout + 100 ms: claims wait for entries idle over 2.1 s */
  weft_ctx_with_cancel(weft_ctx_background(), &r->ctx);
  weft_wg_make(&r->wg);
}
static void go(run_t *r) { weft_wg_go(r->wg, run_task, r); }
static void stop(run_t *r) {
  weft_ctx_cancel(r->ctx);
  weft_wg_wait(r->wg);
  weft_wg_release(r->wg);
  weft_ctx_release(r->ctx);
}

/* How many of ids have a result within ns. */
static int64_t collect_within(const char *results, const char **ids, size_t n, int64_t ns) {
  int errs[8];
  weft_ctx_t *t;
  weft_ctx_with_timeout(weft_ctx_background(), ns, &t);
  int64_t got = weft_redis_collect_ctx(c, results, ids, n, NULL, errs, t);
  weft_ctx_release(t);
  return got;
}

static void bad_input(void) {
  weft_redis_conn_t *x = (void *)1;
  EQ(weft_redis_conn_open(NULL, &x), WEFT_EINVAL);
  CHECK(x == NULL, "out cleared");
  weft_redis_opts o = opts;
  o.size = 0;
  EQ(weft_redis_conn_open(&o, &x), WEFT_EINVAL);
  o = opts;
  o.port = 70000;
  EQ(weft_redis_conn_open(&o, &x), WEFT_EINVAL);
  EQ(weft_redis_conn_open(&opts, NULL), WEFT_EINVAL);
  EQ(weft_redis_conn_open_ctx(&opts, NULL, &x), WEFT_EINVAL);
  o = opts;
  o.port = 1; /* nothing listens there */
  EQ(weft_redis_conn_open_until(&o, weft_now_ns() + 2000000000LL, &x), WEFT_ECONNREFUSED);
  EQ(weft_redis_conn_close(NULL), WEFT_EINVAL);
  const char *av[1] = {"PING"};
  size_t lv[1] = {4}, huge[1] = {(size_t)1 << 40};
  EQ(weft_redis_conn_cmd_until(NULL, 1, av, lv, WEFT_NO_DEADLINE, NULL), WEFT_EINVAL);
  EQ(weft_redis_conn_cmd_until(c, 0, av, lv, WEFT_NO_DEADLINE, NULL), WEFT_EINVAL);
  EQ(weft_redis_conn_cmd_until(c, 1, NULL, lv, WEFT_NO_DEADLINE, NULL), WEFT_EINVAL);
  EQ(weft_redis_conn_cmd_until(c, 1, av, huge, WEFT_NO_DEADLINE, NULL), WEFT_EINVAL);
  EQ(weft_redis_conn_cmd_until(c, 1, av, lv, WEFT_NO_DEADLINE, NULL), 0);
  char longid[300];
  memset(longid, 'x', sizeof longid - 1);
  longid[299] = 0;
  EQ(weft_redis_enqueue_try(NULL, "s", 0, "a", "", 0), WEFT_EINVAL);
  EQ(weft_redis_enqueue_try(c, NULL, 0, "a", "", 0), WEFT_EINVAL);
  EQ(weft_redis_enqueue_try(c, "s", 0, NULL, "", 0), WEFT_EINVAL);
  EQ(weft_redis_enqueue_try(c, "s", 0, "", "", 0), WEFT_EINVAL);
  EQ(weft_redis_enqueue_try(c, "s", 0, longid, "", 0), WEFT_EINVAL);
  EQ(weft_redis_enqueue_try(c, "s", 0, "a", NULL, 5), WEFT_EINVAL);
  EQ(weft_redis_enqueue_try(c, "s", 0, "a", "x", (size_t)1 << 40), WEFT_EINVAL);
  EQ(weft_redis_enqueue_ctx(c, "s", 0, "a", "x", 1, NULL), WEFT_EINVAL);
  weft_redis_pool_t *p;
  EQ(weft_redis_pool_make(&opts, 0, &p), WEFT_EINVAL);
  EQ(weft_redis_pool_make(&opts, 5000, &p), WEFT_EINVAL);
  EQ(weft_redis_pool_make(NULL, 2, &p), WEFT_EINVAL);
  EQ(weft_redis_pool_release(NULL), WEFT_EINVAL);
  EQ(weft_redis_pool_make(&opts, 2, &p), 0);
  weft_redis_conn_t *pc;
  EQ(weft_redis_pool_get_ctx(p, NULL, &pc), 0);
  EQ(weft_redis_conn_cmd_until(pc, 1, av, lv, weft_now_ns() + 2000000000LL, NULL), 0);
  EQ(weft_redis_pool_put(p, pc), 0);
  EQ(weft_redis_pool_release(p), 0);
  weft_redis_worker_opts wo;
  weft_redis_worker_opts_init(&wo);
  EQ(weft_redis_worker_run(&opts, &wo, weft_ctx_background(), NULL), WEFT_EINVAL); /* no stream/fn */
  wo.stream = "s";
  wo.consumer = "c";
  EQ(weft_redis_worker_run(&opts, &wo, weft_ctx_background(), NULL), WEFT_EINVAL); /* no fn */
  wo.fn = job;
  wo.tasks = -1;
  EQ(weft_redis_worker_run(&opts, &wo, weft_ctx_background(), NULL), WEFT_EINVAL);
  wo.tasks = 1000000;
  EQ(weft_redis_worker_run(&opts, &wo, weft_ctx_background(), NULL), WEFT_EINVAL);
  wo.tasks = 1;
  EQ(weft_redis_worker_run(&opts, &wo, NULL, NULL), WEFT_EINVAL);
  int errs[1];
  const char *ids[1] = {"a"};
  EQ(weft_redis_collect_ctx(NULL, "r", ids, 1, NULL, errs, weft_ctx_background()), WEFT_EINVAL);
  EQ(weft_redis_collect_ctx(c, "r", NULL, 1, NULL, errs, weft_ctx_background()), WEFT_EINVAL);
  EQ(weft_redis_collect_ctx(c, "r", ids, 1, NULL, NULL, weft_ctx_background()), WEFT_EINVAL);
  CHECK(strlen(weft_redis_strerror(WEFT_REDIS_EWRONGTYPE)) > 0 && strcmp(weft_redis_strerror(WEFT_ETIMEDOUT), weft_strerror(WEFT_ETIMEDOUT)) == 0, "strerror");
}

static void wrong_type(void) {
  cmd_int("SET", "plain", "v", NULL);
  EQ(weft_redis_enqueue_try(c, "plain", 0, "a", "t", 1), WEFT_REDIS_EWRONGTYPE);
  EQ(weft_redis_enqueue_try(c, "plain", 10, "a", "t", 1), WEFT_REDIS_EWRONGTYPE);
  weft_redis_worker_opts wo;
  weft_redis_worker_opts_init(&wo);
  wo.stream = "plain";
  wo.consumer = "c";
  wo.fn = job;
  int rc = weft_redis_worker_run(&opts, &wo, weft_ctx_background(), NULL);
  EQ(rc, WEFT_REDIS_EWRONGTYPE);
  const char *ids[1] = {"a"};
  int errs[1];
  weft_ctx_t *t;
  weft_ctx_with_timeout(weft_ctx_background(), 1000000000, &t);
  EQ(weft_redis_collect_ctx(c, "plain", ids, 1, NULL, errs, t), WEFT_REDIS_EWRONGTYPE);
  weft_ctx_release(t);
  /* the connection still works after error replies */
  EQ(cmd_int("DEL", "plain", NULL, NULL), 1);
}

static void auth_select(void) {
  EQ(cmd_int("CONFIG", "SET", "requirepass", "sekrit"), 0);
  weft_redis_conn_t *x;
  weft_redis_opts o = opts;
  EQ(weft_redis_conn_open(&o, &x), 0); /* connects; the first command is refused */
  const char *av[1] = {"PING"};
  size_t lv[1] = {4};
  EQ(weft_redis_conn_cmd_until(x, 1, av, lv, weft_now_ns() + 2000000000LL, NULL), WEFT_REDIS_EAUTH);
  weft_redis_conn_close(x);
  o.password = "wrong";
  EQ(weft_redis_conn_open(&o, &x), WEFT_REDIS_EAUTH);
  o.password = "sekrit";
  o.db = 3;
  EQ(weft_redis_conn_open(&o, &x), 0);
  const char *sv[3] = {"SET", "in-db-3", "1"};
  size_t sl[3] = {3, 7, 1};
  EQ(weft_redis_conn_cmd_until(x, 3, sv, sl, weft_now_ns() + 2000000000LL, NULL), 0);
  const char *cv[4] = {"CONFIG", "SET", "requirepass", ""};
  size_t cl[4] = {6, 3, 11, 0};
  EQ(weft_redis_conn_cmd_until(x, 4, cv, cl, weft_now_ns() + 2000000000LL, NULL), 0);
  weft_redis_conn_close(x);
  /* c was authenticated before requirepass: still works, db 0 has no such key */
  EQ(cmd_int("EXISTS", "in-db-3", NULL, NULL), 0);
}

static void back_pressure(void) {
  EQ(weft_redis_enqueue_try(c, "bp", 3, "1", "t", 1), 0);
  EQ(weft_redis_enqueue_try(c, "bp", 3, "2", "t", 1), 0);
  EQ(weft_redis_enqueue_try(c, "bp", 3, "3", "t", 1), 0);
  EQ(weft_redis_enqueue_try(c, "bp", 3, "4", "t", 1), WEFT_EAGAIN);
  int64_t t0 = weft_now_ns();
  EQ(weft_redis_enqueue_until(c, "bp", 3, "4", "t", 1, t0 + 100000000), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - t0 >= 90000000, "waited for room");
  EQ(cmd_int("XLEN", "bp", NULL, NULL), 3); /* nothing trimmed */
  /* a worker drains it: the waiting producer gets in */
  run_t r;
  start(&r, "bp", "bp-1");
  go(&r);
  EQ(weft_redis_enqueue_until(c, "bp", 3, "4", "t", 1, weft_now_ns() + 5000000000LL), 0);
  const char *ids[4] = {"1", "2", "3", "4"};
  EQ(collect_within("bp:results", ids, 4, 5000000000LL), 4);
  stop(&r);
  EQ(r.rc, 0);
  EQ(cmd_int("XLEN", "bp", NULL, NULL), 0); /* acked entries are deleted */
}

static void poison_timeout_collect(void) {
  EQ(weft_redis_enqueue_try(c, "pt", 0, "good", "t", 1), 0);
  EQ(weft_redis_enqueue_try(c, "pt", 0, "poison", "p", 1), 0);
  EQ(weft_redis_enqueue_try(c, "pt", 0, "slow", "s2000", 5), 0);
  run_t r;
  start(&r, "pt", "pt-1");
  r.o.job_timeout_ns = 100000000;
  r.o.max_attempts = 2;
  go(&r);
  const char *ids[4] = {"good", "poison", "slow", "never"};
  int errs[4];
  char *vals[4];
  weft_ctx_t *t;
  weft_ctx_with_timeout(weft_ctx_background(), 3000000000LL, &t);
  int64_t t0 = weft_now_ns();
  EQ(weft_redis_collect_ctx(c, "pt:results", ids, 4, vals, errs, t), 1);
  CHECK(weft_now_ns() - t0 < 3500000000LL, "collect ended at its deadline");
  weft_ctx_release(t);
  EQ(errs[0], 0);
  CHECK(vals[0] && strcmp(vals[0], "done good") == 0, "value %s", vals[0] ? vals[0] : "(null)");
  EQ(errs[1], WEFT_REDIS_EJOB);
  CHECK(vals[1] && strstr(vals[1], "cannot digest poison"), "poison error text: %s", vals[1] ? vals[1] : "(null)");
  EQ(errs[2], WEFT_REDIS_EJOB);
  CHECK(vals[2] && strstr(vals[2], weft_strerror(WEFT_ETIMEDOUT)), "timeout error text: %s", vals[2] ? vals[2] : "(null)");
  EQ(errs[3], WEFT_ETIMEDOUT);
  CHECK(vals[3] == NULL, "missing has no value");
  for (int i = 0; i < 4; i++) free(vals[i]);
  stop(&r);
  EQ(r.rc, 0);
  EQ(cmd_int("XLEN", "pt:dead", NULL, NULL), 2);
  EQ((long long)r.st.dead, 2);
  EQ((long long)r.st.retried, 2);
  CHECK(r.st.timeouts >= 2, "timeouts %llu", (unsigned long long)r.st.timeouts);
  EQ(cmd_int("XLEN", "pt", NULL, NULL), 0);
}

static void grace_leaves_claimable(void) {
  EQ(weft_redis_enqueue_try(c, "gr", 0, "long", "s1500", 5), 0);
  run_t r;
  start(&r, "gr", "gr-1");
  r.o.grace_ns = 200000000;
  go(&r);
  weft_sleep_ns(300000000);
  int64_t t0 = weft_now_ns();
  stop(&r);
  CHECK(weft_now_ns() - t0 < 1200000000LL, "stop took %lld ms", (long long)((weft_now_ns() - t0) / 1000000));
  EQ(r.rc, 0);
  EQ((long long)r.st.succeeded, 0);
  EQ(cmd_int("XPENDING", "gr", "weft", NULL), 4); /* [count, min, max, consumers]: see count below */
  weft_redis_reply *rp;
  const char *av[3] = {"XPENDING", "gr", "weft"};
  size_t lv[3] = {8, 2, 4};
  EQ(weft_redis_conn_cmd_until(c, 3, av, lv, weft_now_ns() + 1000000000LL, &rp), 0);
  EQ(rp->element[0]->integer, 1); /* left pending, unacked */
  weft_redis_reply_free(rp);
  run_t r2;
  start(&r2, "gr", "gr-2");
  go(&r2);
  const char *ids[1] = {"long"};
  EQ(collect_within("gr:results", ids, 1, 8000000000LL), 1);
  stop(&r2);
  EQ((long long)r2.st.claimed, 1);
  EQ((long long)r2.st.succeeded, 1);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  weft_redis_opts_init(&opts);
  opts.port = atoi(argv[1]);
  if (weft_redis_conn_open_until(&opts, weft_now_ns() + 5000000000LL, &c) != 0) {
    fprintf(stderr, "no redis on %d\n", opts.port);
    return 1;
  }
  cmd_int("FLUSHALL", NULL, NULL, NULL);
  bad_input();
  wrong_type();
  auth_select();
  back_pressure();
  poison_timeout_collect();
  grace_leaves_claimable();
  weft_redis_conn_close(c);
  weft_stats st = {.size = sizeof st};
  weft_stats_get(&st);
  EQ((long long)st.io_polls_active, 0);
  weft_shutdown();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
