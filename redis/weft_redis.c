/* libweft_redis: a work queue on Redis Streams for Weft tasks (weft_redis.h).
 *
 * How hiredis is plugged in (the fd-readiness pattern, docs/redis.md): a
 * redisContext made with redisConnectNonBlock never blocks; its fd is waited
 * on with weft_fd_wait_until / weft_fd_wait_ctx, which parks only the calling
 * task. io_write() flushes hiredis' output buffer (redisBufferWrite), waiting
 * for WRITABLE on EAGAIN; io_reply() takes replies from hiredis' reader
 * (redisGetReplyFromReader), reading more (redisBufferRead) and waiting for
 * READABLE when none is complete. The fd is closed with weft_fd_close after
 * redisFreeKeepFd, so no loop keeps watching a closed or reused fd.
 *
 * Rules kept here: a connection belongs to one task at a time (the pool hands
 * it out); nothing thread-local or thread-bound is kept across a park (a task
 * may resume on another worker); errno is read right after the call that set
 * it, before any wait. */
#define _GNU_SOURCE
#include "weft_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT const char *weft_redis_strerror(int err) {
  switch (err) {
  case WEFT_REDIS_EREPLY: return "Redis replied with an error";
  case WEFT_REDIS_EWRONGTYPE: return "a Redis key holds the wrong kind of value";
  case WEFT_REDIS_EAUTH: return "Redis authentication failed or is required";
  case WEFT_REDIS_EPROTO: return "unexpected Redis reply or protocol error";
  case WEFT_REDIS_EJOB: return "job failed for good (dead-lettered)";
  default: return weft_strerror(err);
  }
}

/* ------------------------------------------------------------ connections */

struct weft_redis_conn {
  redisContext *rc;        /* NULL while disconnected */
  weft_redis_opts o;       /* host/password/username point into the copies below */
  char host[256], pass[256], user[256];
  char err[600];
  int64_t backoff;
  uint64_t reconnects;
};

EXPORT void weft_redis_opts_init(weft_redis_opts *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

static int copy_opts(weft_redis_conn_t *c, const weft_redis_opts *o) {
  if (!o || o->size < sizeof(weft_redis_opts)) return WEFT_EINVAL;
  if (o->port < 0 || o->port > 65535 || o->db < 0 || o->db > 1000000) return WEFT_EINVAL;
  const char *h = o->host ? o->host : "127.0.0.1";
  if (strlen(h) >= sizeof c->host || (o->password && strlen(o->password) >= sizeof c->pass) ||
      (o->username && strlen(o->username) >= sizeof c->user))
    return WEFT_EINVAL;
  c->o = *o;
  strcpy(c->host, h);
  c->o.host = c->host;
  c->o.password = o->password ? strcpy(c->pass, o->password) : NULL;
  c->o.username = o->username ? strcpy(c->user, o->username) : NULL;
  if (c->o.port == 0) c->o.port = 6379;
  if (c->o.backoff_min_ns <= 0) c->o.backoff_min_ns = 10000000;
  if (c->o.backoff_max_ns <= 0) c->o.backoff_max_ns = 1000000000;
  c->backoff = c->o.backoff_min_ns;
  return 0;
}

static weft_redis_conn_t *conn_new(const weft_redis_opts *o, int *rc) {
  weft_redis_conn_t *c = calloc(1, sizeof *c);
  if (!c) { *rc = WEFT_ENOMEM; return NULL; }
  if ((*rc = copy_opts(c, o)) != 0) { free(c); return NULL; }
  return c;
}

/* Frees hiredis' context but closes the fd through weft, which stops every
 * loop watching it first. */
static void conn_drop(weft_redis_conn_t *c) {
  if (!c->rc) return;
  int fd = redisFreeKeepFd(c->rc);
  c->rc = NULL;
  if (fd >= 0) weft_fd_close(fd);
}

static int errno_code(int e) {
  switch (e) {
  case ECONNREFUSED: return WEFT_ECONNREFUSED;
  case ECONNRESET: return WEFT_ECONNRESET;
  case EPIPE: return WEFT_ECONNRESET;
  case ETIMEDOUT: return WEFT_ETIMEDOUT;
  case EHOSTUNREACH: return WEFT_EHOSTUNREACH;
  case ENETUNREACH: return WEFT_ENETUNREACH;
  case EADDRNOTAVAIL: return WEFT_EADDRNOTAVAIL;
  case ENOMEM: return WEFT_ENOMEM;
  default: return WEFT_EIO;
  }
}

/* hiredis' context error as a code (its errno is read by the caller). */
static int ctx_code(weft_redis_conn_t *c, int saved_errno) {
  snprintf(c->err, sizeof c->err, "%s", c->rc ? c->rc->errstr : "disconnected");
  if (!c->rc) return WEFT_ENOTCONN;
  switch (c->rc->err) {
  case REDIS_ERR_IO: return errno_code(saved_errno);
  case REDIS_ERR_EOF: return WEFT_ECONNRESET;
  case REDIS_ERR_OOM: return WEFT_ENOMEM;
  case REDIS_ERR_PROTOCOL: return WEFT_REDIS_EPROTO;
  default: return WEFT_EIO;
  }
}

static int fd_wait(int fd, int ev, int64_t deadline, weft_ctx_t *ctx) {
  return ctx ? weft_fd_wait_ctx(fd, ev, ctx) : weft_fd_wait_until(fd, ev, deadline);
}

/* Sleeps ns, ending early when ctx is done or at the deadline; returns the
 * context's or deadline's error when that ended it. */
static int nap(int64_t ns, int64_t deadline, weft_ctx_t *ctx) {
  if (ctx) {
    weft_ctx_t *t;
    if (weft_ctx_with_timeout(ctx, ns, &t) != 0) return weft_ctx_err(ctx) ? weft_ctx_err(ctx) : WEFT_ENOMEM;
    weft_ctx_wait(t);
    weft_ctx_release(t);
    return weft_ctx_err(ctx);
  }
  int64_t until = weft_now_ns() + ns;
  if (until > deadline) until = deadline;
  int rc = weft_sleep_until(until);
  if (rc < 0) return rc;
  return weft_now_ns() >= deadline ? WEFT_ETIMEDOUT : 0;
}

static int io_write(weft_redis_conn_t *c, int64_t deadline, weft_ctx_t *ctx) {
  int done = 0;
  while (!done) {
    errno = 0;
    if (redisBufferWrite(c->rc, &done) == REDIS_ERR) return ctx_code(c, errno);
    if (!done) {
      int w = fd_wait(c->rc->fd, WEFT_FD_WRITABLE, deadline, ctx);
      if (w < 0) return w;
    }
  }
  return 0;
}

static int io_reply(weft_redis_conn_t *c, redisReply **out, int64_t deadline, weft_ctx_t *ctx) {
  void *r = NULL;
  for (;;) {
    if (redisGetReplyFromReader(c->rc, &r) == REDIS_ERR) return ctx_code(c, 0);
    if (r) break;
    errno = 0;
    if (redisBufferRead(c->rc) == REDIS_ERR) return ctx_code(c, errno);
    if (redisGetReplyFromReader(c->rc, &r) == REDIS_ERR) return ctx_code(c, 0);
    if (r) break;
    int w = fd_wait(c->rc->fd, WEFT_FD_READABLE, deadline, ctx);
    if (w < 0) return w;
  }
  *out = r;
  return 0;
}

static int reply_code(weft_redis_conn_t *c, redisReply *r) {
  if (r->type != REDIS_REPLY_ERROR) return 0;
  snprintf(c->err, sizeof c->err, "%.*s", (int)r->len, r->str);
  if (strncmp(r->str, "WRONGTYPE", 9) == 0 || strstr(r->str, "WRONGTYPE")) return WEFT_REDIS_EWRONGTYPE;
  if (!strncmp(r->str, "NOAUTH", 6) || !strncmp(r->str, "WRONGPASS", 9) ||
      strstr(r->str, "invalid password") || strstr(r->str, "AUTH"))
    return WEFT_REDIS_EAUTH;
  return WEFT_REDIS_EREPLY;
}

/* n commands pipelined in one write; replies[i] gets each reply (or NULL).
 * Returns 0, the first error reply's code (all replies read), or a connection
 * error (the connection is dropped: its state is unknown). */
static int raw_cmds(weft_redis_conn_t *c, int n, const int *argc, const char *const *const *argv,
                    const size_t *const *argvlen, redisReply **replies, int64_t deadline, weft_ctx_t *ctx) {
  for (int i = 0; i < n; i++) replies[i] = NULL;
  for (int i = 0; i < n; i++)
    if (redisAppendCommandArgv(c->rc, argc[i], (const char **)argv[i], argvlen[i]) != REDIS_OK) {
      int e = ctx_code(c, ENOMEM);
      conn_drop(c);
      return e;
    }
  int rc = io_write(c, deadline, ctx);
  int first = 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    rc = io_reply(c, &replies[i], deadline, ctx);
    if (rc == 0 && !first) first = reply_code(c, replies[i]);
  }
  if (rc != 0) {
    for (int i = 0; i < n; i++) if (replies[i]) { freeReplyObject(replies[i]); replies[i] = NULL; }
    conn_drop(c);
    return rc;
  }
  return first;
}

static int raw_cmd(weft_redis_conn_t *c, int argc, const char **argv, const size_t *len,
                   redisReply **out, int64_t deadline, weft_ctx_t *ctx) {
  const char *const *av = argv;
  const size_t *const lv = len;
  redisReply *r;
  int rc = raw_cmds(c, 1, &argc, &av, &lv, &r, deadline, ctx);
  if (out) *out = r;
  else if (r) freeReplyObject(r);
  return rc;
}

/* One connection attempt: TCP connect (non-blocking), AUTH, SELECT. */
static int connect_once(weft_redis_conn_t *c, int64_t deadline, weft_ctx_t *ctx) {
  errno = 0;
  c->rc = redisConnectNonBlock(c->host, c->o.port);
  if (!c->rc) return WEFT_ENOMEM;
  if (c->rc->err) {
    int e = ctx_code(c, errno);
    conn_drop(c);
    return e;
  }
  int w = fd_wait(c->rc->fd, WEFT_FD_WRITABLE, deadline, ctx);
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (w >= 0 && getsockopt(c->rc->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
  struct sockaddr_storage peer;
  socklen_t pl = sizeof peer;
  /* the poll may have consumed SO_ERROR: an unconnected socket has no peer */
  if (w >= 0 && soerr == 0 && getpeername(c->rc->fd, (struct sockaddr *)&peer, &pl) != 0) soerr = ECONNREFUSED;
  if (w < 0 || soerr) {
    snprintf(c->err, sizeof c->err, "connect %s:%d: %s", c->host, c->o.port,
             w < 0 ? weft_strerror(w) : strerror(soerr));
    conn_drop(c);
    return w < 0 ? w : errno_code(soerr);
  }
  int one = 1;
  setsockopt(c->rc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = 0;
  if (c->o.password) {
    const char *av[3] = {"AUTH", c->o.username ? c->o.username : c->o.password, c->o.password};
    size_t lv[3] = {4, strlen(av[1]), strlen(av[2])};
    rc = raw_cmd(c, c->o.username ? 3 : 2, av, lv, NULL, deadline, ctx);
    if (rc == WEFT_REDIS_EREPLY) rc = WEFT_REDIS_EAUTH;
  }
  if (rc == 0 && c->o.db > 0) {
    char db[16];
    int n = snprintf(db, sizeof db, "%d", c->o.db);
    const char *av[2] = {"SELECT", db};
    size_t lv[2] = {6, (size_t)n};
    rc = raw_cmd(c, 2, av, lv, NULL, deadline, ctx);
  }
  if (rc != 0) conn_drop(c);
  return rc;
}

/* Connects if needed, retrying with exponential back-off until the deadline
 * or ctx; authentication failures are returned at once. */
static int ensure(weft_redis_conn_t *c, int64_t deadline, weft_ctx_t *ctx) {
  if (c->rc) return 0;
  for (;;) {
    int rc = connect_once(c, deadline, ctx);
    if (rc == 0) { c->backoff = c->o.backoff_min_ns; return 0; }
    if (rc == WEFT_REDIS_EAUTH || rc == WEFT_EINVAL || rc == WEFT_ENOMEM ||
        rc == WEFT_ECANCELED || rc == WEFT_ETIMEDOUT || rc == WEFT_ESHUTDOWN)
      return rc;
    c->reconnects++;
    int s = nap(c->backoff, deadline, ctx);
    if (s < 0) return s;
    c->backoff *= 2;
    if (c->backoff > c->o.backoff_max_ns) c->backoff = c->o.backoff_max_ns;
  }
}

static int open_common(const weft_redis_opts *o, int64_t deadline, weft_ctx_t *ctx, weft_redis_conn_t **out) {
  if (!out) return WEFT_EINVAL;
  *out = NULL;
  int rc;
  weft_redis_conn_t *c = conn_new(o, &rc);
  if (!c) return rc;
  if ((rc = connect_once(c, deadline, ctx)) != 0) { free(c); return rc; }
  *out = c;
  return 0;
}

EXPORT int weft_redis_conn_open(const weft_redis_opts *o, weft_redis_conn_t **out) {
  return open_common(o, WEFT_NO_DEADLINE, NULL, out);
}
EXPORT int weft_redis_conn_open_until(const weft_redis_opts *o, int64_t deadline_ns, weft_redis_conn_t **out) {
  return open_common(o, deadline_ns, NULL, out);
}
EXPORT int weft_redis_conn_open_ctx(const weft_redis_opts *o, weft_ctx_t *ctx, weft_redis_conn_t **out) {
  if (!ctx) return WEFT_EINVAL;
  return open_common(o, WEFT_NO_DEADLINE, ctx, out);
}

EXPORT int weft_redis_conn_close(weft_redis_conn_t *c) {
  if (!c) return WEFT_EINVAL;
  conn_drop(c);
  free(c);
  return 0;
}

EXPORT const char *weft_redis_conn_errstr(weft_redis_conn_t *c) { return c ? c->err : "invalid connection"; }

EXPORT void weft_redis_reply_free(weft_redis_reply *r) { if (r) freeReplyObject(r); }

static int check_argv(int argc, const char **argv, const size_t *len) {
  if (argc <= 0 || argc > 1000000 || !argv || !len) return WEFT_EINVAL;
  for (int i = 0; i < argc; i++)
    if (!argv[i] || len[i] > WEFT_REDIS_MAX_DATA) return WEFT_EINVAL;
  return 0;
}

static int cmd(weft_redis_conn_t *c, int argc, const char **argv, const size_t *len, int64_t deadline,
               weft_ctx_t *ctx, redisReply **out) {
  if (out) *out = NULL;
  if (!c) return WEFT_EINVAL;
  int rc = check_argv(argc, argv, len);
  if (rc) return rc;
  if ((rc = ensure(c, deadline, ctx)) != 0) return rc;
  return raw_cmd(c, argc, argv, len, out, deadline, ctx);
}

EXPORT int weft_redis_conn_cmd_until(weft_redis_conn_t *c, int argc, const char **argv, const size_t *argvlen,
                                     int64_t deadline_ns, weft_redis_reply **out) {
  return cmd(c, argc, argv, argvlen, deadline_ns, NULL, out);
}
EXPORT int weft_redis_conn_cmd_ctx(weft_redis_conn_t *c, int argc, const char **argv, const size_t *argvlen,
                                   weft_ctx_t *ctx, weft_redis_reply **out) {
  if (!ctx) { if (out) *out = NULL; return WEFT_EINVAL; }
  return cmd(c, argc, argv, argvlen, WEFT_NO_DEADLINE, ctx, out);
}

/* ------------------------------------------------------------------- pool */

struct weft_redis_pool {
  weft_chan_t *free;  /* of weft_redis_conn_t * */
  atomic_int out;     /* connections handed out */
  atomic_int released;
};

EXPORT int weft_redis_pool_make(const weft_redis_opts *o, int n, weft_redis_pool_t **out) {
  if (!out) return WEFT_EINVAL;
  *out = NULL;
  if (n <= 0 || n > 1024) return WEFT_EINVAL;
  weft_redis_pool_t *p = calloc(1, sizeof *p);
  if (!p) return WEFT_ENOMEM;
  int rc = weft_chan_make(sizeof(weft_redis_conn_t *), (size_t)n, &p->free);
  if (rc) { free(p); return rc; }
  for (int i = 0; i < n; i++) {
    weft_redis_conn_t *c = conn_new(o, &rc);
    if (!c) { weft_redis_pool_release(p); return rc; }
    weft_chan_try_send(p->free, &c);
  }
  *out = p;
  return 0;
}

static void pool_free(weft_redis_pool_t *p) {
  weft_redis_conn_t *c;
  while (weft_chan_try_recv(p->free, &c) == 0) weft_redis_conn_close(c);
  weft_chan_release(p->free);
  free(p);
}

EXPORT int weft_redis_pool_get_ctx(weft_redis_pool_t *p, weft_ctx_t *ctx, weft_redis_conn_t **out) {
  if (!p || !out || atomic_load(&p->released)) return WEFT_EINVAL;
  *out = NULL;
  atomic_fetch_add(&p->out, 1);
  int rc = ctx ? weft_chan_recv_ctx(p->free, out, ctx) : weft_chan_recv(p->free, out);
  if (rc) atomic_fetch_sub(&p->out, 1);
  return rc;
}

EXPORT int weft_redis_pool_put(weft_redis_pool_t *p, weft_redis_conn_t *c) {
  if (!p || !c) return WEFT_EINVAL;
  if (atomic_load(&p->released) || weft_chan_try_send(p->free, &c) != 0) weft_redis_conn_close(c);
  if (atomic_fetch_sub(&p->out, 1) == 1 && atomic_load(&p->released) == 1 &&
      atomic_exchange(&p->released, 2) == 1)
    pool_free(p);
  return 0;
}

EXPORT int weft_redis_pool_release(weft_redis_pool_t *p) {
  if (!p) return WEFT_EINVAL;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&p->released, &expect, 1)) return WEFT_EINVAL;
  if (atomic_load(&p->out) == 0 && atomic_exchange(&p->released, 2) == 1) pool_free(p);
  else { weft_redis_conn_t *c; while (weft_chan_try_recv(p->free, &c) == 0) weft_redis_conn_close(c); }
  return 0;
}

/* ---------------------------------------------------------------- producer */

/* Check-and-add in one script: never trims, refuses when full. */
static const char ENQUEUE_LUA[] =
    "local n = tonumber(ARGV[1]) "
    "if n > 0 and redis.call('XLEN', KEYS[1]) >= n then return 0 end "
    "redis.call('XADD', KEYS[1], '*', 'id', ARGV[2], 'data', ARGV[3], 'a', ARGV[4]) "
    "return 1";

static int check_job(const char *stream, const char *id, const void *data, size_t len) {
  if (!stream || !*stream || strlen(stream) > 4096 || !id) return WEFT_EINVAL;
  size_t il = strlen(id);
  if (il == 0 || il > WEFT_REDIS_MAX_ID || len > WEFT_REDIS_MAX_DATA || (!data && len)) return WEFT_EINVAL;
  return 0;
}

/* 1 added, 0 full, < 0 error. */
static int enqueue_once(weft_redis_conn_t *c, const char *stream, int64_t maxlen, const char *id,
                        const void *data, size_t len, int attempt, int64_t deadline, weft_ctx_t *ctx) {
  char ml[24], at[16];
  int mln = snprintf(ml, sizeof ml, "%lld", (long long)(maxlen > 0 ? maxlen : 0));
  int atn = snprintf(at, sizeof at, "%d", attempt);
  const char *av[8] = {"EVAL", ENQUEUE_LUA, "1", stream, ml, id, data ? (const char *)data : "", at};
  size_t lv[8] = {4, sizeof ENQUEUE_LUA - 1, 1, strlen(stream), (size_t)mln, strlen(id), len, (size_t)atn};
  redisReply *r;
  int rc = cmd(c, 8, av, lv, deadline, ctx, &r);
  if (rc == 0) rc = r && r->type == REDIS_REPLY_INTEGER ? (int)r->integer : WEFT_REDIS_EPROTO;
  if (r) freeReplyObject(r);
  return rc;
}

static int enqueue(weft_redis_conn_t *c, const char *stream, int64_t maxlen, const char *id, const void *data,
                   size_t len, int wait, int64_t deadline, weft_ctx_t *ctx) {
  if (!c) return WEFT_EINVAL;
  int rc = check_job(stream, id, data, len);
  if (rc) return rc;
  int64_t back = 1000000;
  for (;;) {
    rc = enqueue_once(c, stream, maxlen, id, data, len, 1, deadline, ctx);
    if (rc < 0) return rc;
    if (rc == 1) return 0;
    if (!wait) return WEFT_EAGAIN;
    if ((rc = nap(back, deadline, ctx)) < 0) return rc;
    if (back < 50000000) back *= 2;
  }
}

EXPORT int weft_redis_enqueue_try(weft_redis_conn_t *c, const char *stream, int64_t maxlen, const char *id,
                                  const void *data, size_t len) {
  return enqueue(c, stream, maxlen, id, data, len, 0, WEFT_NO_DEADLINE, NULL);
}
EXPORT int weft_redis_enqueue_until(weft_redis_conn_t *c, const char *stream, int64_t maxlen, const char *id,
                                    const void *data, size_t len, int64_t deadline_ns) {
  return enqueue(c, stream, maxlen, id, data, len, 1, deadline_ns, NULL);
}
EXPORT int weft_redis_enqueue_ctx(weft_redis_conn_t *c, const char *stream, int64_t maxlen, const char *id,
                                  const void *data, size_t len, weft_ctx_t *ctx) {
  if (!ctx) return WEFT_EINVAL;
  return enqueue(c, stream, maxlen, id, data, len, 1, WEFT_NO_DEADLINE, ctx);
}

/* ----------------------------------------------------------------- worker */

EXPORT void weft_redis_worker_opts_init(weft_redis_worker_opts *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

typedef struct job {
  char eid[48];   /* the stream entry id */
  char *id;       /* the job id */
  char *data;
  size_t len;
  int attempt;
} job;

typedef struct worker {
  weft_redis_worker_opts o;
  const weft_redis_opts *copts;
  char group[256], results[4200], dead[4200];
  weft_ctx_t *stop;      /* the caller's ctx: stop reading */
  weft_ctx_t *jobs_ctx;  /* canceled when the grace period ends */
  weft_chan_t *jobs;     /* of job * */
  weft_redis_pool_t *pool;
  weft_wg_t *readers, *tasks;
  atomic_ullong delivered, claimed, succeeded, duplicates, retried, dead_n, timeouts, reconnects;
} worker;

static void job_free(job *j) {
  if (!j) return;
  free(j->id);
  free(j->data);
  free(j);
}

/* An entry [eid, [field, value, ...]] as a job; NULL when malformed (a job
 * without an id is acked and dropped by the caller). */
static job *job_parse(redisReply *e) {
  if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
      e->element[0]->len >= sizeof((job *)0)->eid)
    return NULL;
  job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  memcpy(j->eid, e->element[0]->str, e->element[0]->len);
  j->attempt = 1;
  redisReply *f = e->element[1];
  if (f->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
      redisReply *k = f->element[i], *v = f->element[i + 1];
      if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
      if (k->len == 2 && !memcmp(k->str, "id", 2)) { free(j->id); j->id = strndup(v->str, v->len); }
      else if (k->len == 4 && !memcmp(k->str, "data", 4)) {
        free(j->data);
        j->data = malloc(v->len + 1);
        if (j->data) { memcpy(j->data, v->str, v->len); j->data[v->len] = 0; j->len = v->len; }
      } else if (k->len == 1 && k->str[0] == 'a') j->attempt = atoi(v->str);
    }
  if (!j->data) j->data = calloc(1, 1);
  return j;
}

/* Acks and deletes an entry that has no job in it (malformed). */
static void ack_entry(worker *w, weft_redis_conn_t *c, const char *eid) {
  const char *s = w->o.stream;
  const char *a1[4] = {"XACK", s, w->group, eid};
  size_t l1[4] = {4, strlen(s), strlen(w->group), strlen(eid)};
  const char *a2[3] = {"XDEL", s, eid};
  size_t l2[3] = {4, strlen(s), strlen(eid)};
  int argc[2] = {4, 3};
  const char *const *av[2] = {a1, a2};
  const size_t *const lv[2] = {l1, l2};
  redisReply *r[2];
  if (ensure(c, WEFT_NO_DEADLINE, w->jobs_ctx) == 0 && raw_cmds(c, 2, argc, av, lv, r, WEFT_NO_DEADLINE, w->jobs_ctx) >= 0)
    for (int i = 0; i < 2; i++) if (r[i]) freeReplyObject(r[i]);
}

/* Hands the entries of an XREADGROUP/XAUTOCLAIM list to the job tasks.
 * Returns WEFT_ECANCELED once stop ended the hand-off (the rest stay pending,
 * claimable by anyone). */
static int dispatch(worker *w, weft_redis_conn_t *c, redisReply *list, int claimed) {
  if (!list || list->type != REDIS_REPLY_ARRAY) return 0;
  for (size_t i = 0; i < list->elements; i++) {
    redisReply *e = list->element[i];
    if (e->type == REDIS_REPLY_NIL) continue; /* deleted meanwhile */
    job *j = job_parse(e);
    if (!j) continue;
    if (!j->id) { ack_entry(w, c, j->eid); job_free(j); continue; }
    atomic_fetch_add(&w->delivered, 1);
    if (claimed) atomic_fetch_add(&w->claimed, 1);
    if (weft_chan_send_ctx(w->jobs, &j, w->stop) != 0) { job_free(j); return WEFT_ECANCELED; }
  }
  return 0;
}

static int group_create(worker *w, weft_redis_conn_t *c, weft_ctx_t *ctx) {
  const char *s = w->o.stream;
  const char *av[6] = {"XGROUP", "CREATE", s, w->group, "0", "MKSTREAM"};
  size_t lv[6] = {6, 6, strlen(s), strlen(w->group), 1, 8};
  int rc = cmd(c, 6, av, lv, WEFT_NO_DEADLINE, ctx, NULL);
  if (rc == WEFT_REDIS_EREPLY && strstr(c->err, "BUSYGROUP")) rc = 0;
  return rc;
}

/* Reader: XREADGROUP ... BLOCK 1000 under the stop context. A cancel while the
 * reply is on its way drops the connection; entries Redis delivered in that
 * reply stay pending and are claimed later. */
static void reader_task(void *arg) {
  worker *w = arg;
  int rc;
  weft_redis_conn_t *c = conn_new(w->copts, &rc);
  if (!c) return;
  char count[16];
  int cn = snprintf(count, sizeof count, "%d", w->o.batch);
  const char *s = w->o.stream;
  const char *av[10] = {"XREADGROUP", "GROUP", w->group, w->o.consumer, "COUNT", count, "BLOCK", "1000", "STREAMS", s};
  const char *av2[11];
  memcpy(av2, av, sizeof av);
  av2[10] = ">";
  size_t lv[11] = {10, 5, strlen(w->group), strlen(w->o.consumer), 5, (size_t)cn, 5, 4, 7, strlen(s), 1};
  while (weft_ctx_err(w->stop) == 0) {
    redisReply *r;
    uint64_t before = c->reconnects;
    rc = cmd(c, 11, av2, lv, WEFT_NO_DEADLINE, w->stop, &r);
    if (c->reconnects != before) atomic_fetch_add(&w->reconnects, c->reconnects - before);
    if (rc == WEFT_REDIS_EREPLY && strstr(c->err, "NOGROUP")) { /* Redis lost its data: make the group again */
      if (r) freeReplyObject(r);
      group_create(w, c, w->stop);
      continue;
    }
    if (rc != 0) {
      if (r) freeReplyObject(r);
      if (weft_ctx_err(w->stop)) break;
      atomic_fetch_add(&w->reconnects, 1);
      nap(w->o.tasks > 0 ? 20000000 : 0, WEFT_NO_DEADLINE, w->stop);
      continue;
    }
    /* [[stream, [entries]]] or nil on timeout */
    if (r && r->type == REDIS_REPLY_ARRAY)
      for (size_t i = 0; i < r->elements; i++) {
        redisReply *sr = r->element[i];
        if (sr->type == REDIS_REPLY_ARRAY && sr->elements == 2 && dispatch(w, c, sr->element[1], 0) < 0) break;
      }
    if (r) freeReplyObject(r);
  }
  weft_redis_conn_close(c);
}

/* Claimer: every claim_idle/2 (between 50 ms and 5 s) XAUTOCLAIM entries
 * pending longer than claim_idle in any consumer (a dead one's) to us. */
static void claimer_task(void *arg) {
  worker *w = arg;
  int rc;
  weft_redis_conn_t *c = conn_new(w->copts, &rc);
  if (!c) return;
  int64_t period = w->o.claim_idle_ns / 2;
  if (period < 50000000) period = 50000000;
  if (period > 5000000000LL) period = 5000000000LL;
  char idle[24], count[16], cursor[64];
  int in = snprintf(idle, sizeof idle, "%lld", (long long)(w->o.claim_idle_ns / 1000000));
  int cn = snprintf(count, sizeof count, "%d", w->o.batch);
  const char *s = w->o.stream;
  while (nap(period, WEFT_NO_DEADLINE, w->stop) == 0) {
    strcpy(cursor, "0-0");
    do {
      const char *av[8] = {"XAUTOCLAIM", s, w->group, w->o.consumer, idle, cursor, "COUNT", count};
      size_t lv[8] = {10, strlen(s), strlen(w->group), strlen(w->o.consumer), (size_t)in, strlen(cursor), 5, (size_t)cn};
      redisReply *r;
      rc = cmd(c, 8, av, lv, WEFT_NO_DEADLINE, w->stop, &r);
      if (rc != 0 || !r || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
          r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof cursor) {
        if (r) freeReplyObject(r);
        break;
      }
      snprintf(cursor, sizeof cursor, "%.*s", (int)r->element[0]->len, r->element[0]->str);
      rc = dispatch(w, c, r->element[1], 1);
      freeReplyObject(r);
    } while (rc == 0 && strcmp(cursor, "0-0") != 0 && weft_ctx_err(w->stop) == 0);
  }
  weft_redis_conn_close(c);
}

/* Stores the outcome of one attempt and acks the entry; every command is
 * idempotent except the re-enqueue (a duplicate try is at-least-once). Retries
 * over connection errors until the grace period ends; 0 when done. */
static int finish(worker *w, job *j, int code, const char *out, size_t out_len) {
  const char *s = w->o.stream;
  size_t sl = strlen(s), gl = strlen(w->group), el = strlen(j->eid), il = strlen(j->id);
  char etext[600], at[16], ml[2] = "0";
  int atn;
  const char *a0[12];
  size_t l0[12];
  int n0;
  int kind; /* 0 success, 1 retry, 2 dead */
  if (code == 0) {
    kind = 0;
    const char *a[4] = {"HSETNX", w->results, j->id, out};
    size_t l[4] = {6, strlen(w->results), il, out_len};
    memcpy(a0, a, sizeof a); memcpy(l0, l, sizeof l); n0 = 4;
  } else if (j->attempt < w->o.max_attempts) {
    kind = 1;
    atn = snprintf(at, sizeof at, "%d", j->attempt + 1);
    const char *a[8] = {"EVAL", ENQUEUE_LUA, "1", s, ml, j->id, j->data, at};
    size_t l[8] = {4, sizeof ENQUEUE_LUA - 1, 1, sl, 1, il, j->len, (size_t)atn};
    memcpy(a0, a, sizeof a); memcpy(l0, l, sizeof l); n0 = 8;
  } else {
    kind = 2;
    atn = snprintf(at, sizeof at, "%d", j->attempt);
    int tn = snprintf(etext, sizeof etext, "%s%s%.*s", weft_redis_strerror(code), out_len ? ": " : "",
                      (int)(out_len > 500 ? 500 : out_len), out ? out : "");
    if (tn >= (int)sizeof etext) tn = sizeof etext - 1;
    const char *a[12] = {"XADD", w->dead, "*", "id", j->id, "data", j->data, "error", etext, "attempts", at, NULL};
    size_t l[12] = {4, strlen(w->dead), 1, 2, il, 4, j->len, 5, (size_t)tn, 8, (size_t)atn, 0};
    memcpy(a0, a, sizeof a); memcpy(l0, l, sizeof l); n0 = 11;
  }
  char res[640];
  int rn = snprintf(res, sizeof res, "\x01" "ERR %s", etext);
  const char *ar[4] = {"HSETNX", w->results, j->id, res};
  size_t lr[4] = {6, strlen(w->results), il, (size_t)(rn < (int)sizeof res ? rn : (int)sizeof res - 1)};
  const char *aa[4] = {"XACK", s, w->group, j->eid};
  size_t la[4] = {4, sl, gl, el};
  const char *ad[3] = {"XDEL", s, j->eid};
  size_t ld[3] = {4, sl, el};
  int argc[4];
  const char *const *av[4];
  const size_t *lv[4];
  int n = 0;
  argc[n] = n0; av[n] = a0; lv[n++] = l0;
  if (kind == 2) { argc[n] = 4; av[n] = ar; lv[n++] = lr; }
  argc[n] = 4; av[n] = aa; lv[n++] = la;
  argc[n] = 3; av[n] = ad; lv[n++] = ld;
  for (;;) {
    weft_redis_conn_t *c;
    if (weft_redis_pool_get_ctx(w->pool, w->jobs_ctx, &c) != 0) return WEFT_ECANCELED;
    redisReply *r[4];
    uint64_t before = c->reconnects;
    int rc = ensure(c, WEFT_NO_DEADLINE, w->jobs_ctx);
    if (rc == 0) rc = raw_cmds(c, n, argc, av, (const size_t *const *)lv, r, WEFT_NO_DEADLINE, w->jobs_ctx);
    if (c->reconnects != before) atomic_fetch_add(&w->reconnects, c->reconnects - before);
    weft_redis_pool_put(w->pool, c);
    if (rc >= 0 || rc == WEFT_REDIS_EREPLY || rc == WEFT_REDIS_EWRONGTYPE) {
      if (rc == 0 && kind == 0 && r[0] && r[0]->type == REDIS_REPLY_INTEGER && r[0]->integer == 0)
        atomic_fetch_add(&w->duplicates, 1);
      for (int i = 0; i < n; i++) if (r[i]) freeReplyObject(r[i]);
      if (rc != 0) return rc; /* a server-side error (wrong type of the results key): not acked */
      if (kind == 0) atomic_fetch_add(&w->succeeded, 1);
      else if (kind == 1) atomic_fetch_add(&w->retried, 1);
      else atomic_fetch_add(&w->dead_n, 1);
      return 0;
    }
    if (weft_ctx_err(w->jobs_ctx)) return rc;
    atomic_fetch_add(&w->reconnects, 1);
    nap(20000000, WEFT_NO_DEADLINE, w->jobs_ctx);
  }
}

static void job_task(void *arg) {
  worker *w = arg;
  char *out = malloc(w->o.max_result + 1);
  if (!out) return;
  job *j;
  while (weft_chan_recv_ctx(w->jobs, &j, w->stop) == 0) {
    weft_ctx_t *jc;
    if (weft_ctx_with_timeout(w->jobs_ctx, w->o.job_timeout_ns, &jc) != 0) { job_free(j); break; }
    int64_t deadline = weft_now_ns() + w->o.job_timeout_ns;
    size_t out_len = w->o.max_result;
    int code = w->o.fn(jc, j->id, j->data, j->len, out, &out_len, w->o.arg);
    weft_ctx_release(jc);
    if (out_len > w->o.max_result) out_len = w->o.max_result;
    if (weft_ctx_err(w->jobs_ctx)) { job_free(j); break; } /* grace over: leave it pending */
    if (weft_now_ns() > deadline) {
      atomic_fetch_add(&w->timeouts, 1);
      if (code == 0 || code == WEFT_ECANCELED) code = WEFT_ETIMEDOUT;
    }
    if (code > 0) code = WEFT_EIO;
    if (code != 0 && code == WEFT_ETIMEDOUT) out_len = 0;
    out[out_len] = 0;
    finish(w, j, code, out, code ? (code == WEFT_ETIMEDOUT ? 0 : out_len) : out_len);
    job_free(j);
  }
  free(out);
}

EXPORT int weft_redis_worker_run(const weft_redis_opts *copts, const weft_redis_worker_opts *oin, weft_ctx_t *ctx,
                                 weft_redis_worker_stats *stats) {
  if (!copts || !oin || !ctx || oin->size < sizeof *oin || !oin->fn || !oin->consumer || !*oin->consumer ||
      strlen(oin->consumer) > 200 || check_job(oin->stream, "x", NULL, 0) != 0)
    return WEFT_EINVAL;
  if (stats && stats->size < sizeof *stats) return WEFT_EINVAL;
  weft_redis_worker_opts o = *oin;
  if (o.tasks == 0) o.tasks = 16;
  if (o.conns == 0) o.conns = 8;
  if (o.batch == 0) o.batch = 64;
  if (o.max_attempts == 0) o.max_attempts = 3;
  if (o.job_timeout_ns == 0) o.job_timeout_ns = 30000000000LL;
  if (o.claim_idle_ns == 0) o.claim_idle_ns = 60000000000LL;
  if (o.grace_ns == 0) o.grace_ns = 5000000000LL;
  if (o.max_result == 0) o.max_result = 4096;
  /* A job still running must never look abandoned: claim only entries idle
   * for longer than a job may run (also stops us re-claiming our own). */
  if (o.claim_idle_ns < o.job_timeout_ns + 100000000) o.claim_idle_ns = o.job_timeout_ns + 100000000;
  if (o.tasks < 1 || o.tasks > 100000 || o.conns < 1 || o.conns > 1024 || o.batch < 1 || o.batch > 100000 ||
      o.max_attempts < 1 || o.max_attempts > 1000000 || o.job_timeout_ns < 0 || o.claim_idle_ns < 1000000 ||
      o.grace_ns < 0 || o.max_result > WEFT_REDIS_MAX_DATA ||
      (o.group && strlen(o.group) > 200) || (o.results && strlen(o.results) > 4096) || (o.dead && strlen(o.dead) > 4096))
    return WEFT_EINVAL;
  worker *w = calloc(1, sizeof *w);
  if (!w) return WEFT_ENOMEM;
  w->o = o;
  w->copts = copts;
  snprintf(w->group, sizeof w->group, "%s", o.group ? o.group : "weft");
  if (o.results) snprintf(w->results, sizeof w->results, "%s", o.results);
  else snprintf(w->results, sizeof w->results, "%s:results", o.stream);
  if (o.dead) snprintf(w->dead, sizeof w->dead, "%s", o.dead);
  else snprintf(w->dead, sizeof w->dead, "%s:dead", o.stream);
  w->stop = ctx;
  int rc;
  weft_ctx_t *nc = NULL;
  weft_redis_conn_t *c = conn_new(copts, &rc);
  if (!c) goto out;
  rc = group_create(w, c, ctx);
  weft_redis_conn_close(c);
  if (rc) goto out;
  if ((rc = weft_ctx_without_cancel(ctx, &nc)) || (rc = weft_ctx_with_cancel(nc, &w->jobs_ctx)) ||
      (rc = weft_chan_make(sizeof(job *), (size_t)o.batch, &w->jobs)) ||
      (rc = weft_redis_pool_make(copts, o.conns, &w->pool)) || (rc = weft_wg_make(&w->readers)) ||
      (rc = weft_wg_make(&w->tasks)))
    goto out;
  for (int i = 0; i < o.tasks; i++)
    if ((rc = weft_wg_go(w->tasks, job_task, w))) break;
  if (rc == 0) {
    int nreaders = o.tasks >= 64 ? 2 : 1;
    for (int i = 0; i < nreaders && rc == 0; i++) rc = weft_wg_go(w->readers, reader_task, w);
    if (rc == 0) rc = weft_wg_go(w->readers, claimer_task, w);
  }
  if (rc) weft_ctx_cancel(w->jobs_ctx); /* partial start: stop what runs */
  else weft_ctx_wait(ctx);
  /* Stop: readers and idle job tasks leave on ctx; running jobs get grace_ns. */
  if (weft_wg_wait_until(w->tasks, weft_now_ns() + o.grace_ns) != 0) weft_ctx_cancel(w->jobs_ctx);
  weft_wg_wait(w->tasks);
  weft_wg_wait(w->readers);
  job *j;
  while (weft_chan_try_recv(w->jobs, &j) == 0) job_free(j); /* handed over, never started: still pending */
out:
  if (stats) {
    stats->delivered = w->delivered;
    stats->claimed = w->claimed;
    stats->succeeded = w->succeeded;
    stats->duplicates = w->duplicates;
    stats->retried = w->retried;
    stats->dead = w->dead_n;
    stats->timeouts = w->timeouts;
    stats->reconnects = w->reconnects;
  }
  if (w->pool) weft_redis_pool_release(w->pool);
  if (w->jobs) weft_chan_release(w->jobs);
  if (w->readers) weft_wg_release(w->readers);
  if (w->tasks) weft_wg_release(w->tasks);
  if (w->jobs_ctx) { weft_ctx_cancel(w->jobs_ctx); weft_ctx_release(w->jobs_ctx); }
  if (nc) weft_ctx_release(nc);
  free(w);
  return rc;
}

/* -------------------------------------------------------------- collector */

EXPORT int64_t weft_redis_collect_ctx(weft_redis_conn_t *c, const char *results, const char *const *ids, size_t n,
                                      char **values, int *errs, weft_ctx_t *ctx) {
  if (!c || !results || !*results || !errs || (!ids && n) || n > 100000000 || !ctx) return WEFT_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!ids[i] || !*ids[i] || strlen(ids[i]) > WEFT_REDIS_MAX_ID) return WEFT_EINVAL;
  const size_t chunk = 1000;
  const char **av = malloc((chunk + 2) * sizeof *av);
  size_t *lv = malloc((chunk + 2) * sizeof *lv);
  size_t *idx = malloc(chunk * sizeof *idx);
  if (!av || !lv || !idx) { free(av); free(lv); free(idx); return WEFT_ENOMEM; }
  for (size_t i = 0; i < n; i++) { errs[i] = 1; if (values) values[i] = NULL; } /* 1: still missing */
  size_t missing = n;
  int64_t ok = 0;
  int rc = 0;
  while (missing > 0) {
    for (size_t i = 0; i < n && rc == 0;) {
      size_t k = 0;
      av[0] = "HMGET"; lv[0] = 5;
      av[1] = results; lv[1] = strlen(results);
      for (; i < n && k < chunk; i++)
        if (errs[i] == 1) { idx[k] = i; av[k + 2] = ids[i]; lv[k + 2] = strlen(ids[i]); k++; }
      if (k == 0) break;
      redisReply *r;
      rc = cmd(c, (int)k + 2, av, lv, WEFT_NO_DEADLINE, ctx, &r);
      if (rc == 0 && (!r || r->type != REDIS_REPLY_ARRAY || r->elements != k)) rc = WEFT_REDIS_EPROTO;
      if (rc == 0)
        for (size_t m = 0; m < k; m++) {
          redisReply *v = r->element[m];
          if (v->type != REDIS_REPLY_STRING) continue;
          size_t at = idx[m];
          int failed = v->len >= 1 && v->str[0] == '\x01';
          errs[at] = failed ? WEFT_REDIS_EJOB : 0;
          if (!failed) ok++;
          if (values) values[at] = failed ? strndup(v->str + 5 > v->str + v->len ? v->str + v->len : v->str + 5,
                                                    v->len >= 5 ? v->len - 5 : 0)
                                          : strndup(v->str, v->len);
          missing--;
        }
      if (r) freeReplyObject(r);
    }
    if (rc == WEFT_REDIS_EREPLY && strstr(c->err, "LOADING")) rc = 0; /* Redis restarting: ask again */
    if (rc != 0 || missing == 0) break;
    if ((rc = nap(20000000, WEFT_NO_DEADLINE, ctx)) != 0) break;
  }
  if (rc == WEFT_ECANCELED || rc == WEFT_ETIMEDOUT || rc == WEFT_ESHUTDOWN) {
    for (size_t i = 0; i < n; i++) if (errs[i] == 1) errs[i] = rc;
    rc = 0;
  }
  free(av); free(lv); free(idx);
  if (rc != 0) {
    for (size_t i = 0; i < n; i++) if (values && values[i]) { free(values[i]); values[i] = NULL; }
    return rc;
  }
  return ok;
}
