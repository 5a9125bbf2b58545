/* An echo server: one task per connection; SIGINT or SIGTERM (a signal
 * context) stops accepting, then open connections get a grace period to
 * finish, after which the stragglers are cut off.
 * Usage: net_echo_server [--test] [port]   (default port 7007)
 * --test: serves on a free port, runs clients against itself (one of them
 * stays idle past the grace period), sends itself SIGINT and checks the
 * outcome. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "weft.h"

#define MS 1000000LL
static weft_wg_t *conns;       /* open connections */
static weft_ctx_t *cut_off;    /* canceled when the grace period is over */
static atomic_int served, cut;

static void connection(void *arg) {
  weft_sock_t *c = arg;
  char buf[4096];
  for (;;) {
    int64_t n = weft_sock_read_ctx(c, buf, sizeof buf, cut_off);
    if (n == WEFT_ECANCELED) atomic_fetch_add(&cut, 1);
    if (n <= 0) break; /* end of stream, error or cut off */
    if (weft_sock_write_ctx(c, buf, (size_t)n, cut_off) != n) break;
  }
  weft_sock_close(c);
  atomic_fetch_add(&served, 1);
  weft_wg_done(conns);
}

/* Accepts until ctx ends; returns the number of connections accepted. */
static int serve(weft_sock_t *l, weft_ctx_t *ctx) {
  int accepted = 0;
  for (;;) {
    weft_sock_t *c;
    int rc = weft_sock_accept_ctx(l, ctx, &c);
    if (rc == WEFT_ECANCELED) return accepted;
    if (rc < 0) {
      fprintf(stderr, "accept: %s\n", weft_strerror(rc));
      continue;
    }
    accepted++;
    weft_wg_add(conns, 1);
    weft_go(connection, c);
  }
}

/* --test: a client doing round trips, and one that connects and idles. */
static int port;
static atomic_int clients_ok;
static void client(void *arg) {
  int idle = (int)(intptr_t)arg;
  weft_sock_t *c;
  if (weft_tcp_connect("127.0.0.1", port, &c) != 0) return;
  char buf[32];
  if (idle) {
    /* Stays silent: the server cuts it off after its grace period. */
    if (weft_sock_read(c, buf, sizeof buf) <= 0) atomic_fetch_add(&clients_ok, 1);
  } else {
    for (int i = 0; i < 20; i++) {
      int len = snprintf(buf, sizeof buf, "ping %d", i);
      if (weft_sock_write(c, buf, (size_t)len) != len || weft_sock_read_full(c, buf, (size_t)len) != len) return;
      weft_sleep_ns(2 * MS); /* still talking when the signal comes */
    }
    atomic_fetch_add(&clients_ok, 1);
  }
  weft_sock_close(c);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  int want_port = test ? 0 : argc > 1 ? atoi(argv[argc - 1]) : 7007;
  int64_t grace = test ? 2000 * MS : 5000 * MS; /* generous: loaded test machines */
  weft_sock_t *l;
  int rc = weft_tcp_listen("127.0.0.1", want_port, 0, &l);
  if (rc != 0) {
    fprintf(stderr, "listen: %s\n", weft_strerror(rc));
    return 1;
  }
  port = weft_sock_local_port(l);
  weft_ctx_t *sig;
  weft_ctx_with_signals(NULL, &sig);
  weft_ctx_with_cancel(NULL, &cut_off);
  weft_wg_make(&conns);
  printf("echo server on 127.0.0.1:%d; %s\n", port, test ? "testing" : "Ctrl-C to stop");
  if (test) {
    for (int i = 0; i < 4; i++) weft_go(client, (void *)(intptr_t)0);
    weft_go(client, (void *)(intptr_t)1);
  }
  if (test) {
    /* The signal comes while the clients are mid-conversation. */
    weft_sleep_ns(40 * MS);
    kill(getpid(), SIGINT);
  }
  int accepted = serve(l, sig);
  weft_sock_close(l); /* stop accepting: new connections are refused */
  printf("signal %d: stopped accepting after %d connections; %lld ms grace\n", weft_ctx_cause(sig), accepted,
         (long long)(grace / MS));
  if (weft_wg_wait_until(conns, weft_now_ns() + grace) == WEFT_ETIMEDOUT) {
    weft_ctx_cancel(cut_off);
    weft_wg_wait(conns);
  }
  printf("%d connections served, %d cut off at the end of the grace period\n", atomic_load(&served),
         atomic_load(&cut));
  int ok = 1;
  if (test) {
    weft_sock_t *late;
    int late_rc = weft_tcp_connect("127.0.0.1", port, &late);
    for (int i = 0; i < 2000 && atomic_load(&clients_ok) < 5; i++) weft_sleep_ns(MS);
    printf("clients: %d of 5 ended as expected; a late connect: %s\n", atomic_load(&clients_ok),
           weft_err_name(late_rc));
    ok = accepted == 5 && atomic_load(&served) == 5 && atomic_load(&cut) == 1 && atomic_load(&clients_ok) == 5 &&
         late_rc == WEFT_ECONNREFUSED;
  }
  weft_wg_release(conns);
  weft_ctx_release(cut_off);
  weft_ctx_release(sig);
  return weft_shutdown() == 0 && ok ? 0 : 1;
}
