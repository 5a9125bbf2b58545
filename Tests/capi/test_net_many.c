/* 10,000 concurrent loopback connections: a child process serves (a task per
 * connection), this process connects 10,000 tasks that all hold their
 * connection open at once, do two round trips and close. Both raise
 * RLIMIT_NOFILE; below 10,100 fds the test is skipped with the reason. Nothing
 * is left registered or open afterwards. */
#include "io_util.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define N 10000

static atomic_int served, finished;

static void serve_conn(void *arg) {
  weft_sock_t *c = arg;
  char buf[64];
  for (;;) {
    int64_t n = weft_sock_read_full(c, buf, sizeof buf);
    if (n == WEFT_EOF) break;
    CHECK(n == 64);
    CHECK(weft_sock_write(c, buf, 64) == 64);
  }
  weft_sock_close(c);
  atomic_fetch_add(&served, 1);
}

static int child(int port_pipe) {
  CHECK_OK(weft_init(NULL));
  weft_sock_t *l;
  CHECK_OK(weft_tcp_listen("127.0.0.1", 0, 4096, &l));
  int port = weft_sock_local_port(l);
  CHECK(write(port_pipe, &port, sizeof port) == sizeof port);
  for (int i = 0; i < N; i++) {
    weft_sock_t *c;
    CHECK_OK(weft_sock_accept_until(l, weft_now_ns() + 60000 * MS, &c));
    CHECK_OK(weft_go(serve_conn, c));
  }
  for (int i = 0; i < 60000 && atomic_load(&served) < N; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&served) == N);
  CHECK_OK(weft_sock_close(l));
  expect_no_polls();
  CHECK_OK(weft_shutdown());
  return 0;
}

static int port;
static weft_wg_t *all_open;

static void round_trip(weft_sock_t *c, int i) {
  char out[64], in[64];
  memset(out, 0, sizeof out);
  snprintf(out, sizeof out, "conn %d", i);
  CHECK(weft_sock_write(c, out, 64) == 64);
  CHECK(weft_sock_read_full(c, in, 64) == 64);
  CHECK(memcmp(in, out, 64) == 0);
}

static void client(void *arg) {
  int i = (int)(intptr_t)arg;
  weft_sock_t *c;
  CHECK_OK(weft_tcp_connect_until("127.0.0.1", port, weft_now_ns() + 60000 * MS, &c));
  round_trip(c, i);
  weft_wg_done(all_open);
  CHECK_OK(weft_wg_wait(all_open)); /* every connection is open now */
  round_trip(c, i);
  CHECK_OK(weft_sock_close(c));
  atomic_fetch_add(&finished, 1);
}

int main(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < N + 100) {
    printf("skipped: RLIMIT_NOFILE is %llu, need %d per process\n", (unsigned long long)rl.rlim_cur, N + 100);
    return 0;
  }
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(child(p[1]));
  CHECK(read(p[0], &port, sizeof port) == sizeof port);
  close(p[0]);
  close(p[1]);
  CHECK_OK(weft_init(NULL));
  int fds = open_fds();
  CHECK_OK(weft_wg_make(&all_open));
  CHECK_OK(weft_wg_add(all_open, N));
  int64_t t = weft_now_ns();
  for (int i = 0; i < N; i++) CHECK_OK(weft_go(client, (void *)(intptr_t)i));
  for (int i = 0; i < 60000 && atomic_load(&finished) < N; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&finished) == N);
  printf("%d connections, all open at once, 2 round trips each: %lld ms\n", N,
         (long long)((weft_now_ns() - t) / MS));
  weft_wg_release(all_open);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  expect_no_tasks();
  expect_no_polls();
  CHECK(open_fds() == fds);
  CHECK_OK(weft_shutdown());
  return 0;
}
