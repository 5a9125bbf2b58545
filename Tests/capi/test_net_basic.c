/* Sockets: TCP over IPv4 and IPv6, Unix sockets; echo, read_full, EOF, peer
 * reset, refused, back-pressure under a small SO_SNDBUF, shutdown, addresses,
 * deadlines and contexts, host names through the offload pool, the same calls
 * from a plain thread, bad input. Nothing leaks afterwards. */
#include "io_util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

static atomic_int done_count;

static void echo_conn(void *arg) {
  weft_sock_t *c = arg;
  char buf[4096];
  for (;;) {
    int64_t n = weft_sock_read(c, buf, sizeof buf);
    if (n <= 0) break;
    CHECK(weft_sock_write(c, buf, (size_t)n) == n);
  }
  weft_sock_close(c);
}

static void echo_server(void *arg) {
  weft_sock_t *l = arg;
  for (;;) {
    weft_sock_t *c;
    int rc = weft_sock_accept(l, &c);
    if (rc == WEFT_ECLOSED) break;
    CHECK_OK(rc);
    CHECK_OK(weft_go(echo_conn, c));
  }
  weft_sock_release(l);
}

static void round_trips(weft_sock_t *c, int n) {
  for (int i = 0; i < n; i++) {
    char out[64], in[64];
    memset(out, 'a' + i % 26, sizeof out);
    CHECK(weft_sock_write(c, out, sizeof out) == 64);
    CHECK(weft_sock_read_full(c, in, sizeof in) == 64);
    CHECK(memcmp(in, out, 64) == 0);
  }
}

struct client_arg { const char *host; int port; const char *path; };

static void client(void *arg) {
  struct client_arg *a = arg;
  weft_sock_t *c;
  if (a->path) CHECK_OK(weft_unix_connect(a->path, &c));
  else CHECK_OK(weft_tcp_connect(a->host, a->port, &c));
  if (!a->path) {
    int one = 0;
    socklen_t len = sizeof one;
    CHECK(getsockopt(weft_sock_fd(c), IPPROTO_TCP, TCP_NODELAY, &one, &len) == 0 && one == 1);
    char peer[64];
    CHECK(weft_sock_peer_addr(c, peer, sizeof peer) > 0);
    char want[64];
    snprintf(want, sizeof want, strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", strcmp(a->host, "localhost") ? a->host : "127.0.0.1", a->port);
    if (strcmp(a->host, "localhost") != 0 && strcmp(peer, want) != 0) {
      fprintf(stderr, "peer %s, want %s\n", peer, want);
      CHECK(0);
    }
  }
  round_trips(c, 100);
  /* shutdown: the server's read sees EOF, closes, we read EOF. */
  CHECK_OK(weft_sock_shutdown(c));
  char b;
  CHECK(weft_sock_read(c, &b, 1) == 0);
  CHECK_CODE((int)weft_sock_read_full(c, &b, 1), WEFT_EOF);
  weft_sock_close(c);
  atomic_fetch_add(&done_count, 1);
}

static void run_echo(const char *host, const char *path) {
  weft_sock_t *l;
  int port = 0;
  if (path) {
    unlink(path);
    CHECK_OK(weft_unix_listen(path, 0, &l));
    char addr[128];
    CHECK(weft_sock_local_addr(l, addr, sizeof addr) == (int)strlen(path));
    CHECK(strcmp(addr, path) == 0);
  } else {
    CHECK_OK(weft_tcp_listen(host, 0, 0, &l));
    port = weft_sock_local_port(l);
    CHECK(port > 0);
  }
  CHECK_OK(weft_go(echo_server, weft_sock_retain(l)));
  struct client_arg a = {host, port, path};
  atomic_store(&done_count, 0);
  for (int i = 0; i < 4; i++) CHECK_OK(weft_go(client, &a));
  for (int i = 0; i < 5000 && atomic_load(&done_count) < 4; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&done_count) == 4);
  /* The same from this plain thread. */
  weft_sock_t *c;
  if (path) CHECK_OK(weft_unix_connect(path, &c));
  else CHECK_OK(weft_tcp_connect(host, port, &c));
  round_trips(c, 20);
  CHECK_OK(weft_sock_close(c));
  CHECK_OK(weft_sock_close(l)); /* wakes the accepting task with WEFT_ECLOSED */
  if (path) unlink(path);
}

/* Refused, reset, EOF in the middle of read_full, broken pipe. */
static void error_codes(void) {
  weft_sock_t *l, *c, *s;
  CHECK_OK(weft_tcp_listen("127.0.0.1", 0, 0, &l));
  int port = weft_sock_local_port(l);
  CHECK_OK(weft_sock_close(l));
  CHECK_CODE(weft_tcp_connect("127.0.0.1", port, &c), WEFT_ECONNREFUSED);
  CHECK_CODE(weft_unix_connect("/nonexistent/weft.sock", &c), WEFT_ENOENT);

  CHECK_OK(weft_tcp_listen("127.0.0.1", 0, 0, &l));
  port = weft_sock_local_port(l);
  weft_sock_t *l2;
  CHECK_CODE(weft_tcp_listen("127.0.0.1", port, 0, &l2), WEFT_EADDRINUSE);
  CHECK_OK(weft_tcp_connect("127.0.0.1", port, &c));
  CHECK_OK(weft_sock_accept(l, &s));
  /* EOF after 3 of 8 bytes. */
  CHECK(weft_sock_write(s, "abc", 3) == 3);
  CHECK_OK(weft_sock_shutdown(s));
  char buf[8];
  CHECK_CODE((int)weft_sock_read_full(c, buf, 8), WEFT_EOF);
  CHECK(memcmp(buf, "abc", 3) == 0);
  CHECK_OK(weft_sock_close(s));
  CHECK_OK(weft_sock_close(c));
  /* Reset: the peer closes with SO_LINGER 0 (an RST, no FIN). */
  CHECK_OK(weft_tcp_connect("127.0.0.1", port, &c));
  CHECK_OK(weft_sock_accept(l, &s));
  struct linger lg = {1, 0};
  CHECK(setsockopt(weft_sock_fd(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  CHECK_OK(weft_sock_close(s));
  int64_t r = weft_sock_read(c, buf, 8);
  CHECK_CODE((int)r, WEFT_ECONNRESET);
  /* Writing to a reset connection: EPIPE (or ECONNRESET on some kernels). */
  int64_t w = weft_sock_write(c, "x", 1);
  CHECK(w == WEFT_EPIPE || w == WEFT_ECONNRESET);
  CHECK_OK(weft_sock_close(c));
  /* Calls on a closed handle: the handle is gone after close; use a retained one. */
  CHECK_OK(weft_tcp_connect("127.0.0.1", port, &c));
  weft_sock_t *extra = weft_sock_retain(c);
  CHECK_OK(weft_sock_close(c));
  CHECK_CODE((int)weft_sock_read(extra, buf, 1), WEFT_ECLOSED);
  CHECK_CODE((int)weft_sock_write(extra, buf, 1), WEFT_ECLOSED);
  CHECK_CODE(weft_sock_close(extra), WEFT_ECLOSED); /* and drops the last reference */
  CHECK_OK(weft_sock_accept(l, &s));
  CHECK_OK(weft_sock_close(s));
  CHECK_OK(weft_sock_close(l));
}

/* Back-pressure: a 4 MiB write into a tiny send buffer parks until a slow
 * reader drains it; every byte arrives in order. */
#define BIG (2 << 20)
static void slow_reader(void *arg) {
  weft_sock_t *s = arg;
  unsigned char *buf = malloc(65536);
  size_t got = 0;
  weft_sleep_ns(20 * MS); /* let the writer fill every buffer and park */
  while (got < BIG) {
    int64_t n = weft_sock_read(s, buf, 7000);
    CHECK(n > 0);
    for (int64_t i = 0; i < n; i++) CHECK(buf[i] == (unsigned char)((got + i) * 7));
    got += (size_t)n;
    if (got % 262144 < 7000) weft_sleep_ns(MS);
  }
  free(buf);
  weft_sock_close(s);
  atomic_fetch_add(&done_count, 1);
}

static void back_pressure(void) {
  weft_sock_t *l, *c, *s;
  CHECK_OK(weft_tcp_listen("127.0.0.1", 0, 0, &l));
  CHECK_OK(weft_tcp_connect("127.0.0.1", weft_sock_local_port(l), &c));
  CHECK_OK(weft_sock_accept(l, &s));
  int small = 4096;
  CHECK(setsockopt(weft_sock_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  atomic_store(&done_count, 0);
  CHECK_OK(weft_go(slow_reader, s));
  unsigned char *big = malloc(BIG);
  for (size_t i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 7);
  int64_t t = weft_now_ns();
  CHECK(weft_sock_write(c, big, BIG) == BIG);
  CHECK(weft_now_ns() - t >= 15 * MS); /* it had to wait for the reader */
  for (int i = 0; i < 5000 && atomic_load(&done_count) < 1; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&done_count) == 1);
  free(big);
  CHECK_OK(weft_sock_close(c));
  CHECK_OK(weft_sock_close(l));
}

static void deadlines(void) {
  weft_sock_t *l, *c, *s;
  CHECK_OK(weft_tcp_listen("::1", 0, 0, &l));
  int port = weft_sock_local_port(l);
  int64_t t = weft_now_ns();
  CHECK_CODE(weft_sock_accept_until(l, t + 20 * MS, &s), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - t >= 20 * MS);
  CHECK_OK(weft_tcp_connect_until("::1", port, weft_now_ns() + 1000 * MS, &c));
  weft_ctx_t *ctx;
  CHECK_OK(weft_ctx_with_timeout(NULL, 15 * MS, &ctx));
  CHECK_OK(weft_sock_accept_ctx(l, ctx, &s));
  char b[16];
  CHECK_CODE((int)weft_sock_read_ctx(s, b, sizeof b, ctx), WEFT_ETIMEDOUT);
  CHECK_CODE((int)weft_sock_read_until(s, b, sizeof b, weft_now_ns() + 10 * MS), WEFT_ETIMEDOUT);
  CHECK_CODE((int)weft_sock_read_full_until(s, b, sizeof b, weft_now_ns() + 10 * MS), WEFT_ETIMEDOUT);
  weft_ctx_release(ctx);
  /* A full send buffer and nobody reading: the write times out. */
  int small = 4096;
  setsockopt(weft_sock_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  static char big[1 << 20];
  CHECK_CODE((int)weft_sock_write_until(c, big, sizeof big, weft_now_ns() + 30 * MS), WEFT_ETIMEDOUT);
  CHECK_OK(weft_sock_close(s));
  CHECK_OK(weft_sock_close(c));
  CHECK_OK(weft_sock_close(l));
  /* A canceled context fails at once. */
  CHECK_OK(weft_ctx_with_cancel(NULL, &ctx));
  weft_ctx_cancel(ctx);
  CHECK_CODE(weft_tcp_connect_ctx("127.0.0.1", port, ctx, &c), WEFT_ECANCELED);
  weft_ctx_release(ctx);
}

static void bad_input(void) {
  weft_sock_t *s;
  char b[4];
  CHECK_CODE(weft_tcp_listen("127.0.0.1", 70000, 0, &s), WEFT_EINVAL);
  CHECK_CODE(weft_tcp_listen("127.0.0.1", 0, 0, NULL), WEFT_EINVAL);
  CHECK_CODE(weft_tcp_connect("127.0.0.1", 0, &s), WEFT_EINVAL);
  CHECK_CODE(weft_tcp_connect("no.such.host.invalid", 80, &s), WEFT_ENAMENOTFOUND);
  CHECK_CODE(weft_unix_listen(NULL, 0, &s), WEFT_EINVAL);
  char longpath[200];
  memset(longpath, 'x', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = 0;
  CHECK_CODE(weft_unix_connect(longpath, &s), WEFT_EINVAL);
  CHECK_CODE((int)weft_sock_read(NULL, b, 1), WEFT_EINVAL);
  CHECK_CODE((int)weft_sock_write(NULL, b, 1), WEFT_EINVAL);
  CHECK_CODE(weft_sock_close(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_sock_fd(NULL), WEFT_EINVAL);
  CHECK(weft_sock_retain(NULL) == NULL);
  /* A handle that is not a socket. */
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  CHECK_CODE((int)weft_sock_read((weft_sock_t *)wg, b, 1), WEFT_EINVAL);
  weft_wg_release(wg);
  weft_sock_t *l, *c;
  CHECK_OK(weft_tcp_listen("127.0.0.1", 0, 0, &l));
  CHECK_OK(weft_tcp_connect("127.0.0.1", weft_sock_local_port(l), &c));
  CHECK_CODE((int)weft_sock_read(c, NULL, 1), WEFT_EINVAL);
  CHECK_CODE((int)weft_sock_write(c, NULL, 1), WEFT_EINVAL);
  CHECK_CODE((int)weft_sock_read(c, b, (size_t)-1), WEFT_EINVAL);
  CHECK_CODE((int)weft_sock_write(c, b, (size_t)-1), WEFT_EINVAL);
  CHECK((int)weft_sock_read(c, b, 0) == 0);
  CHECK_CODE(weft_sock_local_addr(c, b, sizeof b), WEFT_ERANGE);
  CHECK_CODE(weft_sock_local_addr(c, NULL, 10), WEFT_EINVAL);
  CHECK_CODE(weft_sock_peer_addr(l, longpath, sizeof longpath), WEFT_ENOTCONN);
  CHECK_CODE(weft_sock_accept(l, NULL), WEFT_EINVAL);
  CHECK_OK(weft_sock_close(c));
  CHECK_OK(weft_sock_close(l));
  /* fd readiness on a non-socket, a listening socket's ops on a connection. */
  CHECK_CODE(weft_fd_wait(-3, WEFT_FD_WRITABLE), WEFT_EBADF);
}

static void names_task(void *arg) {
  (void)arg;
  struct client_arg a = {"localhost", 0, NULL};
  weft_sock_t *l;
  CHECK_OK(weft_tcp_listen("localhost", 0, 0, &l)); /* resolved on the offload pool */
  a.port = weft_sock_local_port(l);
  CHECK_OK(weft_go(echo_server, weft_sock_retain(l)));
  weft_sock_t *c;
  /* localhost may resolve to ::1 first: the listener is on one family, so
   * connect tries each address in turn. */
  CHECK_OK(weft_tcp_connect("localhost", a.port, &c));
  round_trips(c, 10);
  weft_sock_close(c);
  weft_sock_close(l);
  atomic_fetch_add(&done_count, 1);
}

/* Runs fn in a task and waits for it. */
static void task_body(void *arg) { ((void (*)(void))arg)(); }
static void in_task(void (*fn)(void)) {
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  CHECK_OK(weft_wg_go(wg, task_body, (void *)fn));
  CHECK_OK(weft_wg_wait(wg));
  weft_wg_release(wg);
}

int main(void) {
  CHECK_OK(weft_init(NULL));
  int fds = open_fds();
  bad_input();
  run_echo("127.0.0.1", NULL);
  run_echo("::1", NULL);
  char path[64];
  snprintf(path, sizeof path, "/tmp/weft-test-%d.sock", (int)getpid());
  run_echo(NULL, path);
  error_codes(); /* from this plain thread, then from a task */
  in_task(error_codes);
  back_pressure();
  in_task(back_pressure);
  deadlines();
  in_task(deadlines);
  in_task(bad_input);
  atomic_store(&done_count, 0);
  CHECK_OK(weft_go(names_task, NULL));
  for (int i = 0; i < 5000 && atomic_load(&done_count) < 1; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&done_count) == 1);
  expect_no_tasks();
  expect_no_polls();
  int now = open_fds();
  if (now != fds) {
    fprintf(stderr, "fds: %d at start, %d now\n", fds, now);
    CHECK(0);
  }
  CHECK_OK(weft_shutdown());
  puts("net basic ok");
  return 0;
}
