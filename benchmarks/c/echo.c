/* echo: C client connections to an echo server in the same process, on
 * loopback; each client does R round trips of a SIZE-byte message (write it,
 * read it back in full). Server: one task per connection. n = C*R round trips.
 * Timed region: from the moment every connection is open and idle until the
 * last client finished. Also reported: p99 round-trip latency (us) and RSS
 * per open idle connection (VmRSS after opening C connections, each with its
 * server task, minus VmRSS before, / C; both ends live in this process).
 * The Go peer, benchmarks/go/echo, does exactly the same with package net. */
#include "bench.h"

#define MAX_SIZE 256 /* on the task's stack, as Go's buffers are on its heap */
static int64_t C, R, SIZE;
static int port;
static weft_wg_t *opened, *go_signal, *finished;
static int64_t *lat; /* C*R round-trip latencies, ns */

static void serve(void *arg) {
  weft_sock_t *c = arg;
  char buf[MAX_SIZE];
  for (;;) {
    int64_t n = weft_sock_read_full(c, buf, (size_t)SIZE);
    if (n != SIZE) break; /* WEFT_EOF: the client is done */
    CHECK(weft_sock_write(c, buf, (size_t)SIZE));
  }
  weft_sock_close(c);
}

static void start_server_task(weft_sock_t *c) { CHECK(weft_go(serve, c)); }
static void acceptor(void *arg) { bench_accept_loop(arg, start_server_task); }

static void client(void *arg) {
  int64_t id = (int64_t)(intptr_t)arg;
  weft_sock_t *c;
  CHECK(weft_tcp_connect("127.0.0.1", port, &c));
  char out[MAX_SIZE], in[MAX_SIZE];
  memset(out, (int)('a' + id % 26), (size_t)SIZE);
  /* One round trip so the server's task is running, then idle. */
  CHECK(weft_sock_write(c, out, (size_t)SIZE));
  if (weft_sock_read_full(c, in, (size_t)SIZE) != SIZE) fail("warm-up echo");
  weft_wg_done(opened);
  CHECK(weft_wg_wait(go_signal));
  int64_t *mine = lat + id * R;
  for (int64_t i = 0; i < R; i++) {
    int64_t t = now_ns();
    out[0] = (char)i;
    CHECK(weft_sock_write(c, out, (size_t)SIZE));
    if (weft_sock_read_full(c, in, (size_t)SIZE) != SIZE) fail("echo %lld", (long long)i);
    if (in[0] != (char)i || in[SIZE - 1] != out[SIZE - 1]) fail("echo %lld: wrong bytes", (long long)i);
    mine[i] = now_ns() - t;
  }
  weft_sock_close(c);
  weft_wg_done(finished);
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void main_task(void *arg) {
  (void)arg;
  weft_sock_t *l;
  CHECK(weft_tcp_listen("127.0.0.1", 0, 4096, &l));
  port = weft_sock_local_port(l);
  CHECK(weft_go(acceptor, l));
  CHECK(weft_wg_make(&opened));
  CHECK(weft_wg_make(&go_signal));
  CHECK(weft_wg_make(&finished));
  CHECK(weft_wg_add(opened, C));
  CHECK(weft_wg_add(go_signal, 1));
  CHECK(weft_wg_add(finished, C));
  int64_t rss0 = status_kb("VmRSS");
  for (int64_t i = 0; i < C; i++) CHECK(weft_go(client, (void *)(intptr_t)i));
  CHECK(weft_wg_wait(opened));
  weft_sleep_ns(20000000); /* let the server tasks park */
  int64_t rss1 = status_kb("VmRSS");
  int64_t t0 = now_ns();
  CHECK(weft_wg_done(go_signal));
  CHECK(weft_wg_wait(finished));
  int64_t el = now_ns() - t0;
  weft_sock_close(l);
  qsort(lat, (size_t)(C * R), sizeof *lat, cmp64);
  char extra[512] = "";
  extra_int(extra, sizeof extra, "conns", C);
  extra_int(extra, sizeof extra, "round_trips", R);
  extra_num(extra, sizeof extra, "p50_us", (double)lat[C * R / 2] / 1e3);
  extra_num(extra, sizeof extra, "p99_us", (double)lat[C * R * 99 / 100] / 1e3);
  extra_num(extra, sizeof extra, "rss_per_conn_b", (double)(rss1 - rss0) * 1024.0 / (double)C);
  extra_num(extra, sizeof extra, "total_ms", ms(el));
  report("echo", C * R, el, extra);
}

int main(int argc, char **argv) {
  C = arg_i64(argc, argv, "c", 100);
  R = arg_i64(argc, argv, "r", 1000);
  SIZE = arg_i64(argc, argv, "size", 64);
  if (C < 1 || R < 1 || SIZE < 1 || SIZE > MAX_SIZE) fail("bad arguments");
  int64_t limit = bench_raise_nofile();
  /* Both ends live here: clamp C to what the fd limit allows (as the Go peer). */
  int64_t fit = (limit - 32) / 2;
  if (C > fit) {
    fprintf(stderr, "echo: RLIMIT_NOFILE %lld: %lld connections instead of %lld\n",
            (long long)limit, (long long)fit, (long long)C);
    C = fit;
  }
  lat = calloc((size_t)(C * R), sizeof *lat);
  if (!lat) fail("out of memory");
  bench_start_runtime();
  bench_run_main(main_task, NULL);
  return 0;
}
