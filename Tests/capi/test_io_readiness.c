/* fd readiness: pipes and socketpairs from tasks and threads; two tasks on one
 * fd; a task that waits on one worker, then another; deadlines and contexts
 * that leave nothing registered; close while tasks and threads wait. */
#include "io_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

static int pipe_r, pipe_w;
static atomic_int woke;

static void wait_readable(void *arg) {
  int fd = (int)(intptr_t)arg;
  CHECK_CODE(weft_fd_wait(fd, WEFT_FD_READABLE), WEFT_FD_READABLE);
  atomic_fetch_add(&woke, 1);
}

/* Two tasks wait on the read end; one write wakes both. */
static void two_waiters(void) {
  int p[2];
  CHECK(pipe(p) == 0);
  set_nonblock(p[0]);
  atomic_store(&woke, 0);
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  CHECK_OK(weft_wg_go(wg, wait_readable, (void *)(intptr_t)p[0]));
  CHECK_OK(weft_wg_go(wg, wait_readable, (void *)(intptr_t)p[0]));
  weft_sleep_ns(20 * MS);
  CHECK(atomic_load(&woke) == 0);
  CHECK(io_polls_active() >= 1);
  CHECK(write(p[1], "x", 1) == 1);
  CHECK_OK(weft_wg_wait_until(wg, weft_now_ns() + 2000 * MS));
  CHECK(atomic_load(&woke) == 2);
  weft_wg_release(wg);
  char c;
  CHECK(read(p[0], &c, 1) == 1);
  CHECK_OK(weft_fd_close(p[0]));
  CHECK_OK(weft_fd_close(p[1]));
  expect_no_polls();
}

/* A task that yields many times between waits ends up on other workers; each
 * wait registers on the loop it runs on. */
static void mover(void *arg) {
  int *sv = arg;
  for (int i = 0; i < 200; i++) {
    char c = (char)i;
    CHECK_CODE(weft_fd_wait(sv[0], WEFT_FD_WRITABLE), WEFT_FD_WRITABLE);
    CHECK(write(sv[0], &c, 1) == 1);
    CHECK_CODE(weft_fd_wait(sv[0], WEFT_FD_READABLE), WEFT_FD_READABLE);
    char back;
    CHECK(read(sv[0], &back, 1) == 1 && back == c);
    for (int y = 0; y < i % 7; y++) weft_yield();
    if (i % 10 == 0) weft_sleep_ns(100000);
  }
}

static void echo_peer(void *arg) {
  int *sv = arg;
  for (int i = 0; i < 200; i++) {
    char c;
    CHECK_CODE(weft_fd_wait(sv[1], WEFT_FD_READABLE), WEFT_FD_READABLE);
    CHECK(read(sv[1], &c, 1) == 1);
    CHECK(write(sv[1], &c, 1) == 1);
  }
}

static void moving_task(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  CHECK_OK(weft_wg_go(wg, mover, sv));
  CHECK_OK(weft_wg_go(wg, echo_peer, sv));
  /* Busy tasks on the other workers push the pair around. */
  CHECK_OK(weft_wg_wait_until(wg, weft_now_ns() + 20000 * MS));
  weft_wg_release(wg);
  CHECK_OK(weft_fd_close(sv[0]));
  CHECK_OK(weft_fd_close(sv[1]));
  expect_no_polls();
}

static void deadline_task(void *arg) {
  int fd = (int)(intptr_t)arg;
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_fd_wait_until(fd, WEFT_FD_READABLE, start + 30 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - start >= 30 * MS);
  weft_ctx_t *ctx;
  CHECK_OK(weft_ctx_with_timeout(NULL, 20 * MS, &ctx));
  CHECK_CODE(weft_fd_wait_ctx(fd, WEFT_FD_READABLE, ctx), WEFT_ETIMEDOUT);
  weft_ctx_release(ctx);
  atomic_fetch_add(&woke, 1);
}

static void cancel_task(void *arg) {
  weft_ctx_t *ctx = arg;
  /* The read end of a pipe never becomes writable. */
  CHECK_CODE(weft_fd_wait_ctx(pipe_r, WEFT_FD_READABLE | WEFT_FD_WRITABLE, ctx), WEFT_ECANCELED);
  atomic_fetch_add(&woke, 1);
}

static void deadlines_and_cancel(void) {
  int p[2];
  CHECK(pipe(p) == 0);
  set_nonblock(p[0]);
  pipe_r = p[0];
  pipe_w = p[1];
  atomic_store(&woke, 0);
  for (int i = 0; i < 8; i++) CHECK_OK(weft_go(deadline_task, (void *)(intptr_t)p[0]));
  weft_ctx_t *ctx;
  CHECK_OK(weft_ctx_with_cancel(NULL, &ctx));
  for (int i = 0; i < 8; i++) CHECK_OK(weft_go(cancel_task, ctx));
  weft_sleep_ns(10 * MS);
  CHECK(io_polls_active() >= 1);
  CHECK_OK(weft_ctx_cancel(ctx)); /* from this plain thread */
  for (int i = 0; i < 2000 && atomic_load(&woke) < 16; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&woke) == 16);
  weft_ctx_release(ctx);
  expect_no_polls(); /* nothing registered after timeouts and cancels */
  CHECK_OK(weft_fd_close(p[0]));
  CHECK_OK(weft_fd_close(p[1]));
}

static void closed_waiter(void *arg) {
  int fd = (int)(intptr_t)arg;
  CHECK_CODE(weft_fd_wait(fd, WEFT_FD_READABLE), WEFT_ECLOSED);
  atomic_fetch_add(&woke, 1);
}

static void *thread_closed_waiter(void *arg) {
  int fd = (int)(intptr_t)arg;
  CHECK_CODE(weft_fd_wait(fd, WEFT_FD_READABLE), WEFT_ECLOSED);
  atomic_fetch_add(&woke, 1);
  return NULL;
}

static void closer(void *arg) {
  int fd = (int)(intptr_t)arg;
  weft_sleep_ns(20 * MS);
  CHECK_OK(weft_fd_close(fd));
}

/* Tasks on several workers and a thread wait; a task closes the fd. */
static void close_while_waiting(void) {
  int p[2];
  CHECK(pipe(p) == 0);
  set_nonblock(p[0]);
  atomic_store(&woke, 0);
  for (int i = 0; i < 6; i++) CHECK_OK(weft_go(closed_waiter, (void *)(intptr_t)p[0]));
  pthread_t t;
  CHECK(pthread_create(&t, NULL, thread_closed_waiter, (void *)(intptr_t)p[0]) == 0);
  CHECK_OK(weft_go(closer, (void *)(intptr_t)p[0]));
  for (int i = 0; i < 2000 && atomic_load(&woke) < 7; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&woke) == 7);
  pthread_join(t, NULL);
  CHECK(fcntl(p[0], F_GETFD) == -1); /* really closed */
  CHECK_CODE(weft_fd_wait(p[0], WEFT_FD_READABLE), WEFT_EBADF);
  CHECK_CODE(weft_fd_close(p[0]), WEFT_EBADF);
  CHECK_OK(weft_fd_close(p[1]));
  expect_no_polls();
}

/* Plain threads: readiness, deadline, context, after a task used the fd. */
static void *thread_writer(void *arg) {
  usleep(20000);
  CHECK(write((int)(intptr_t)arg, "y", 1) == 1);
  return NULL;
}

static void from_threads(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  CHECK_CODE(weft_fd_wait(sv[0], WEFT_FD_WRITABLE), WEFT_FD_WRITABLE);
  int64_t start = weft_now_ns();
  CHECK_CODE(weft_fd_wait_until(sv[0], WEFT_FD_READABLE, start + 25 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - start >= 25 * MS);
  weft_ctx_t *ctx;
  CHECK_OK(weft_ctx_with_timeout(NULL, 15 * MS, &ctx));
  CHECK_CODE(weft_fd_wait_ctx(sv[0], WEFT_FD_READABLE, ctx), WEFT_ETIMEDOUT);
  weft_ctx_release(ctx);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, thread_writer, (void *)(intptr_t)sv[1]) == 0);
  CHECK_CODE(weft_fd_wait(sv[0], WEFT_FD_READABLE), WEFT_FD_READABLE);
  pthread_join(t, NULL);
  /* Peer closed: readable (EOF), not an error. */
  close(sv[1]);
  CHECK_CODE(weft_fd_wait(sv[0], WEFT_FD_READABLE), WEFT_FD_READABLE);
  CHECK_OK(weft_fd_close(sv[0]));
}

static void bad_input(void) {
  CHECK_CODE(weft_fd_wait(-1, WEFT_FD_READABLE), WEFT_EBADF);
  CHECK_CODE(weft_fd_wait(1000000, WEFT_FD_READABLE), WEFT_EBADF);
  CHECK_CODE(weft_fd_wait(0, 0), WEFT_EINVAL);
  CHECK_CODE(weft_fd_wait(0, 8), WEFT_EINVAL);
  CHECK_CODE(weft_fd_close(-5), WEFT_EBADF);
  CHECK_CODE(weft_fd_forget(-5), WEFT_EBADF);
}

static void regular_file_task(void *arg) {
  (void)arg;
  int fd = open("/proc/self/exe", O_RDONLY);
  CHECK(fd >= 0);
  CHECK_CODE(weft_fd_wait(fd, WEFT_FD_READABLE), WEFT_EINVAL); /* epoll refuses files */
  CHECK_OK(weft_fd_close(fd));
  atomic_fetch_add(&woke, 1);
}

int main(void) {
  CHECK_OK(weft_init(NULL)); /* the loops' own fds are not ours to count */
  int fds = open_fds();
  bad_input();
  two_waiters();
  moving_task();
  deadlines_and_cancel();
  close_while_waiting();
  from_threads();
  atomic_store(&woke, 0);
  CHECK_OK(weft_go(regular_file_task, NULL));
  for (int i = 0; i < 2000 && atomic_load(&woke) < 1; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&woke) == 1);
  expect_no_tasks();
  expect_no_polls();
  CHECK(open_fds() == fds);
  CHECK_OK(weft_shutdown());
  puts("io readiness ok");
  return 0;
}
