/* A fan-out client: one request to each of N local servers, each under its own
 * timeout, all under an errgroup that runs at most LIMIT at once; the answers
 * that came in time are reported, the rest as errors (partial results).
 * Usage: net_fanout [--test] [N]   (default 12 servers)
 * Server i answers after i*20 ms; the per-request timeout is 150 ms, so the
 * slow ones time out. --test checks that no server slower than the timeout
 * answered, that the fastest did, and that every failure is a timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "weft.h"

#define MS 1000000LL
#define MAX 64
#define TIMEOUT (150 * MS)
#define LIMIT 4

static int ports[MAX];

/* A server that answers one line per connection after a delay. */
struct server { weft_sock_t *l; int64_t delay; };
static void answer(void *arg) {
  struct server *s = arg;
  for (;;) {
    weft_sock_t *c;
    if (weft_sock_accept(s->l, &c) != 0) break; /* closed: stop */
    char req[16];
    if (weft_sock_read(c, req, sizeof req) > 0) {
      weft_sleep_ns(s->delay);
      char reply[32];
      int n = snprintf(reply, sizeof reply, "%lld ms", (long long)(s->delay / MS));
      weft_sock_write(c, reply, (size_t)n);
    }
    weft_sock_close(c);
  }
}

struct result { int rc; char text[32]; int64_t took_ns; };
static struct result results[MAX];

/* One request under its own timeout, a child of the group's context. Returns
 * 0 even on failure: a slow server must not cancel the others. */
static int request(weft_ctx_t *group_ctx, void *arg) {
  int i = (int)(intptr_t)arg;
  struct result *r = &results[i];
  int64_t start = weft_now_ns();
  weft_ctx_t *ctx;
  weft_ctx_with_timeout(group_ctx, TIMEOUT, &ctx);
  weft_sock_t *c;
  r->rc = weft_tcp_connect_ctx("127.0.0.1", ports[i], ctx, &c);
  if (r->rc == 0) {
    int64_t n = weft_sock_write_ctx(c, "GET\n", 4, ctx);
    if (n == 4) n = weft_sock_read_ctx(c, r->text, sizeof r->text - 1, ctx);
    r->rc = n > 0 ? 0 : n == 0 ? WEFT_EOF : (int)n;
    weft_sock_close(c);
  }
  r->took_ns = weft_now_ns() - start;
  weft_ctx_release(ctx);
  return 0;
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  int n = argc > 1 && !test ? atoi(argv[1]) : 12;
  if (n < 1 || n > MAX) n = 12;
  static struct server servers[MAX];
  for (int i = 0; i < n; i++) {
    if (weft_tcp_listen("127.0.0.1", 0, 0, &servers[i].l) != 0) return 1;
    servers[i].delay = i * 20 * MS;
    ports[i] = weft_sock_local_port(servers[i].l);
    weft_go(answer, &servers[i]);
  }
  weft_group_t *g;
  weft_ctx_t *gctx;
  weft_group_make(NULL, &g, &gctx);
  weft_group_set_limit(g, LIMIT);
  int64_t start = weft_now_ns();
  for (int i = 0; i < n; i++) weft_group_go(g, request, (void *)(intptr_t)i);
  int rc = weft_group_wait(g);
  int64_t took = weft_now_ns() - start;
  int answered = 0, ok = rc == 0 && results[0].rc == 0;
  for (int i = 0; i < n; i++) {
    struct result *r = &results[i];
    if (r->rc == 0) {
      answered++;
      printf("server %2d: \"%s\" in %lld ms\n", i, r->text, (long long)(r->took_ns / MS));
    } else {
      printf("server %2d: %s after %lld ms\n", i, weft_err_name(r->rc), (long long)(r->took_ns / MS));
    }
    /* A server slower than the timeout cannot answer in time; on a loaded
     * machine a fast one may still miss it, but only by timing out. */
    if (r->rc != 0 && r->rc != WEFT_ETIMEDOUT) ok = 0;
    if (servers[i].delay >= TIMEOUT && r->rc == 0) ok = 0;
  }
  printf("%d of %d answered within %lld ms each; %lld ms in all, at most %d at once\n", answered, n,
         (long long)(TIMEOUT / MS), (long long)(took / MS), LIMIT);
  weft_group_release(g);
  for (int i = 0; i < n; i++) weft_sock_close(servers[i].l);
  int down = weft_shutdown();
  return test && (!ok || down != 0) ? 1 : 0;
}
