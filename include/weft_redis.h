/*
 * weft_redis.h — a distributed work queue on Redis Streams, driven by Weft tasks.
 *
 * An optional companion of libweft.so (link -lweft_redis -lweft; libweft.so
 * itself does not depend on Redis). Built on hiredis' non-blocking context,
 * driven through weft_fd_wait*: a task waiting for Redis parks, its worker runs
 * other tasks; there is no thread per connection. See docs/redis.md.
 *
 * Conventions are weft.h's: 0 or a non-negative result on success, a negative
 * code on failure (WEFT_E* where one fits, WEFT_REDIS_E* otherwise),
 * weft_redis_strerror() for text; deadlines are absolute on weft_now_ns();
 * blocking calls have _until and _ctx forms; NULL or absurd input is a code.
 * Delivery is at-least-once: a job may run more than once (after a crash or a
 * Redis restart); results are stored idempotently by job id (first one wins).
 */
#ifndef WEFT_REDIS_H
#define WEFT_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include "weft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- errors */
#define WEFT_REDIS_EREPLY (-5001)     /* Redis answered with an error (text: weft_redis_conn_errstr) */
#define WEFT_REDIS_EWRONGTYPE (-5002) /* a key holds the wrong kind of value */
#define WEFT_REDIS_EAUTH (-5003)      /* AUTH refused / authentication required */
#define WEFT_REDIS_EPROTO (-5004)     /* unexpected reply shape or protocol error */
#define WEFT_REDIS_EJOB (-5005)       /* the job failed for good: dead-lettered */
/* Also used: WEFT_EINVAL (bad argument), WEFT_ENOMEM, WEFT_ETIMEDOUT,
 * WEFT_ECANCELED, WEFT_ECONNREFUSED / WEFT_ECONNRESET / WEFT_EIO (connection),
 * WEFT_EAGAIN (stream full, weft_redis_enqueue_try). */

/* Text for any weft_redis or weft code. */
const char *weft_redis_strerror(int err);

/* ------------------------------------------------------------- connections */
typedef struct weft_redis_conn weft_redis_conn_t;

typedef struct weft_redis_opts {
  size_t size;            /* sizeof(weft_redis_opts) */
  const char *host;       /* numeric address or name; NULL: "127.0.0.1" */
  int port;               /* 0: 6379 */
  const char *password;   /* NULL: no AUTH */
  const char *username;   /* NULL: AUTH password only */
  int db;                 /* SELECT db when > 0 */
  int64_t backoff_min_ns; /* reconnect back-off start; 0: 10 ms */
  int64_t backoff_max_ns; /* reconnect back-off cap; 0: 1 s */
} weft_redis_opts;

void weft_redis_opts_init(weft_redis_opts *o);

/* Connects (TCP, then AUTH and SELECT). The options are copied. Blocks: yes. */
int weft_redis_conn_open(const weft_redis_opts *o, weft_redis_conn_t **out);
int weft_redis_conn_open_until(const weft_redis_opts *o, int64_t deadline_ns, weft_redis_conn_t **out);
int weft_redis_conn_open_ctx(const weft_redis_opts *o, weft_ctx_t *ctx, weft_redis_conn_t **out);
/* Closes the socket through weft_fd_close and frees the connection. A
 * connection is used by one task at a time (hiredis is not thread-safe). */
int weft_redis_conn_close(weft_redis_conn_t *c);
/* The last error text of c ("" if none). Valid until the next call on c. */
const char *weft_redis_conn_errstr(weft_redis_conn_t *c);

/* A reply, as hiredis' (type REDIS_REPLY_*, see <hiredis/hiredis.h>); free with
 * weft_redis_reply_free. */
typedef struct redisReply weft_redis_reply;
void weft_redis_reply_free(weft_redis_reply *r);

/* Sends one command (argc arguments, binary safe) and waits for its reply. A
 * connection that broke is reconnected first, with back-off, until the
 * deadline or ctx. An error reply returns WEFT_REDIS_EREPLY or
 * WEFT_REDIS_EWRONGTYPE (the reply in *out when out is non-NULL). A
 * connection-level failure (or a cancel while the reply was awaited) drops the
 * connection: the next call reconnects. Blocks: yes. */
int weft_redis_conn_cmd_until(weft_redis_conn_t *c, int argc, const char **argv,
                              const size_t *argvlen, int64_t deadline_ns, weft_redis_reply **out);
int weft_redis_conn_cmd_ctx(weft_redis_conn_t *c, int argc, const char **argv,
                            const size_t *argvlen, weft_ctx_t *ctx, weft_redis_reply **out);

/* ------------------------------------------------------------------- pool */
typedef struct weft_redis_pool weft_redis_pool_t;

/* n connections (1..1024) opened lazily; each get hands one to a single task. */
int weft_redis_pool_make(const weft_redis_opts *o, int n, weft_redis_pool_t **out);
/* Waits for a free connection. Blocks: yes. */
int weft_redis_pool_get_ctx(weft_redis_pool_t *p, weft_ctx_t *ctx, weft_redis_conn_t **out);
int weft_redis_pool_put(weft_redis_pool_t *p, weft_redis_conn_t *c);
/* Closes every connection; those still out are closed when put back. */
int weft_redis_pool_release(weft_redis_pool_t *p);

/* ---------------------------------------------------------------- producer */

/* Limits: job id 1..256 bytes, payload up to 512 MiB (Redis' bulk limit). */
#define WEFT_REDIS_MAX_ID 256
#define WEFT_REDIS_MAX_DATA ((size_t)512 << 20)

/* Adds job (id, data) to stream unless the stream already holds maxlen
 * entries (unprocessed jobs: workers delete an entry once acked); the check
 * and the add are one atomic script, entries are never trimmed. maxlen <= 0:
 * no bound. _try: WEFT_EAGAIN when full; _until/_ctx: waits (polling with
 * back-off) until there is room. Blocks: yes (except the check). */
int weft_redis_enqueue_try(weft_redis_conn_t *c, const char *stream, int64_t maxlen,
                           const char *id, const void *data, size_t len);
int weft_redis_enqueue_until(weft_redis_conn_t *c, const char *stream, int64_t maxlen,
                             const char *id, const void *data, size_t len, int64_t deadline_ns);
int weft_redis_enqueue_ctx(weft_redis_conn_t *c, const char *stream, int64_t maxlen,
                           const char *id, const void *data, size_t len, weft_ctx_t *ctx);

/* ----------------------------------------------------------------- worker */

/* A job: runs in a task, under ctx (canceled at the job's timeout or when the
 * grace period after the worker's stop ends). On success write the result
 * (up to *out_len bytes, set *out_len) and return 0; on failure return a
 * negative code and optionally an error text in out (setting *out_len). A job that
 * returns after its deadline counts as WEFT_ETIMEDOUT whatever it returned.
 * Jobs must not block their worker thread (use weft calls to wait). */
typedef int (*weft_redis_job_fn)(weft_ctx_t *ctx, const char *id, const void *data,
                                 size_t len, char *out, size_t *out_len, void *arg);

typedef struct weft_redis_worker_opts {
  size_t size;              /* sizeof(weft_redis_worker_opts) */
  const char *stream;       /* the job stream (required) */
  const char *group;        /* consumer group; NULL: "weft" (created if missing) */
  const char *consumer;     /* this process's consumer name (required, unique) */
  const char *results;      /* result hash; NULL: "<stream>:results" */
  const char *dead;         /* dead-letter stream; NULL: "<stream>:dead" */
  int tasks;                /* job tasks; 0: 16 (1..100000) */
  int conns;                /* pool connections for acks; 0: 8 */
  int batch;                /* XREADGROUP COUNT; 0: 64 */
  int max_attempts;         /* tries before dead-lettering; 0: 3 */
  int64_t job_timeout_ns;   /* per job; 0: 30 s */
  int64_t claim_idle_ns;    /* XAUTOCLAIM entries idle this long; 0: 60 s */
  int64_t grace_ns;         /* after stop, running jobs get this long; 0: 5 s */
  size_t max_result;        /* result buffer per job; 0: 4096 */
  weft_redis_job_fn fn;     /* required */
  void *arg;
} weft_redis_worker_opts;

typedef struct weft_redis_worker_stats {
  size_t size;          /* sizeof(weft_redis_worker_stats) */
  uint64_t delivered;   /* entries read (new or claimed) */
  uint64_t claimed;     /* of those, taken over with XAUTOCLAIM */
  uint64_t succeeded;   /* jobs acked with a result */
  uint64_t duplicates;  /* of those, whose result was already stored */
  uint64_t retried;     /* failures re-enqueued for another try */
  uint64_t dead;        /* moved to the dead-letter stream */
  uint64_t timeouts;    /* attempts that exceeded job_timeout_ns */
  uint64_t reconnects;  /* connection errors survived */
} weft_redis_worker_stats;

void weft_redis_worker_opts_init(weft_redis_worker_opts *o);
/* Runs the worker until ctx is done: readers XREADGROUP (and XAUTOCLAIM) into
 * o->tasks job tasks. A job that succeeds: result stored (HSETNX results id),
 * then XACK and XDEL. One that fails: re-enqueued with attempt+1 then acked,
 * or after max_attempts copied to the dead stream with its error (and
 * results id = "\x01ERR <text>"), then acked. When ctx ends reading stops,
 * running jobs get grace_ns, jobs not finished by then are left unacked in
 * the group for another consumer to claim. stats may be NULL. Returns 0 (or
 * the setup error). Blocks: yes (must be called from a task or thread while
 * the runtime runs). */
int weft_redis_worker_run(const weft_redis_opts *conn, const weft_redis_worker_opts *o,
                          weft_ctx_t *ctx, weft_redis_worker_stats *stats);

/* -------------------------------------------------------------- collector */

/* Waits until every one of ids[0..n) has a result in the hash results, or ctx
 * ends: errs[i] = 0 and values[i] (malloc'd, NUL-terminated, free()) for a
 * result; WEFT_REDIS_EJOB (values[i] = the error text) for a dead-lettered
 * job; WEFT_ETIMEDOUT / WEFT_ECANCELED (values[i] NULL) for one still missing
 * when ctx ended. values may be NULL. Returns the number that succeeded
 * (weft_collect's partial success, across processes). Blocks: yes. */
int64_t weft_redis_collect_ctx(weft_redis_conn_t *c, const char *results, const char *const *ids,
                               size_t n, char **values, int *errs, weft_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_REDIS_H */
