/* connect: N connect + accept + close on loopback, K clients at a time. The
 * server (one acceptor task) accepts and closes each connection at once; a
 * client connects, reads end of stream (so the accept happened) and closes.
 * n = N; timed region: all of it. The Go peer is benchmarks/go/connect. */
#include "bench.h"

static int64_t N, K;
static int port;
static weft_wg_t *done;

static void close_at_once(weft_sock_t *c) { weft_sock_close(c); }
static void acceptor(void *arg) { bench_accept_loop(arg, close_at_once); }

static void client(void *arg) {
  int64_t count = (int64_t)(intptr_t)arg;
  for (int64_t i = 0; i < count; i++) {
    weft_sock_t *c;
    CHECK(weft_tcp_connect("127.0.0.1", port, &c));
    char b;
    int64_t n = weft_sock_read(c, &b, 1);
    if (n != 0 && n != WEFT_ECONNRESET) fail("expected end of stream, got %lld", (long long)n);
    weft_sock_close(c);
  }
  weft_wg_done(done);
}

static void main_task(void *arg) {
  (void)arg;
  weft_sock_t *l;
  CHECK(weft_tcp_listen("127.0.0.1", 0, 4096, &l));
  port = weft_sock_local_port(l);
  CHECK(weft_go(acceptor, l));
  CHECK(weft_wg_make(&done));
  CHECK(weft_wg_add(done, K));
  int64_t t0 = now_ns();
  for (int64_t k = 0; k < K; k++) CHECK(weft_go(client, (void *)(intptr_t)(N / K + (k < N % K))));
  CHECK(weft_wg_wait(done));
  int64_t el = now_ns() - t0;
  weft_sock_close(l);
  char extra[256] = "";
  extra_int(extra, sizeof extra, "clients", K);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("connect", N, el, extra);
}

int main(int argc, char **argv) {
  N = arg_i64(argc, argv, "n", 10000);
  K = arg_i64(argc, argv, "c", 16);
  if (N < 1 || K < 1 || K > N) fail("bad arguments");
  bench_raise_nofile();
  bench_start_runtime();
  bench_run_main(main_task, NULL);
  return 0;
}
