/* The deadlock report (WEFT_DEADLOCK): each scenario runs in a child process
 * (this program re-executed with the scenario's name and the variable set); the
 * parent checks the child's stderr and exit status.
 *   mutex_cycle  two tasks lock two mutexes in opposite orders, main waits on a
 *                WaitGroup: the report names both tasks, the mutexes, the cycle.
 *   chans        (abort mode) two tasks wait to receive on one channel, one to
 *                send on another, main waits on a third: exit status 2, each of
 *                them named, the shared channel with its two waiters.
 *   timer        not a deadlock: a task sleeps 500 ms, then sends to main.
 *   thread       not a deadlock: a plain thread outside weft sleeps 500 ms, then
 *                sends; meanwhile main and a task wait for it.
 *   off          the same deadlock as chans without the variable: no report. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_util.h"

static weft_mutex_t *m1, *m2;
static weft_chan_t *ready, *go, *never, *never2, *out;

static void alpha(void *arg) {
  (void)arg;
  CHECK_OK(weft_mutex_lock(m1));
  CHECK_OK(weft_chan_send(ready, NULL));
  CHECK_CODE(weft_chan_recv(go, NULL), WEFT_ECLOSED);  /* both hold their first */
  CHECK_OK(weft_mutex_lock(m2));  /* beta holds it */
}

static void beta(void *arg) {
  (void)arg;
  CHECK_OK(weft_mutex_lock(m2));
  CHECK_OK(weft_chan_send(ready, NULL));
  CHECK_CODE(weft_chan_recv(go, NULL), WEFT_ECLOSED);
  CHECK_OK(weft_mutex_lock(m1));  /* alpha holds it */
}

static void receiver(void *arg) {
  (void)arg;
  int v;
  weft_chan_recv(never, &v);
}

static void sender(void *arg) {
  (void)arg;
  int v = 1;
  weft_chan_send(never2, &v);
}

static void sleeper(void *arg) {
  (void)arg;
  int v = 7;
  CHECK_OK(weft_sleep_ns(500000000));
  CHECK_OK(weft_chan_send(out, &v));
}

static void *plain_thread(void *arg) {
  (void)arg;
  struct timespec ts = {0, 500000000};
  nanosleep(&ts, NULL);
  int v = 7;
  CHECK_OK(weft_chan_send(out, &v));  /* to main */
  CHECK_OK(weft_chan_send(out, &v));  /* to the task */
  return NULL;
}

static void waiter_task(void *arg) {
  weft_wg_t *wg = arg;
  int v;
  CHECK_OK(weft_chan_recv(out, &v));
  CHECK(v == 7);
  (void)wg;
}

static void task_opts(weft_task_opts *o, const char *name) {
  weft_task_opts_init(o);
  o->name = name;
}

static int child(const char *scenario) {
  weft_task_opts o;
  if (strcmp(scenario, "mutex_cycle") == 0) {
    CHECK_OK(weft_mutex_make(&m1));
    CHECK_OK(weft_mutex_make(&m2));
    CHECK_OK(weft_chan_make(0, 0, &ready));
    CHECK_OK(weft_chan_make(0, 0, &go));
    task_opts(&o, "alpha");
    CHECK_OK(weft_go_opts(alpha, NULL, &o));
    task_opts(&o, "beta");
    CHECK_OK(weft_go_opts(beta, NULL, &o));
    CHECK_OK(weft_chan_recv(ready, NULL));
    CHECK_OK(weft_chan_recv(ready, NULL));
    CHECK_OK(weft_chan_close(go));
    weft_wg_t *wg;
    CHECK_OK(weft_wg_make(&wg));
    CHECK_OK(weft_wg_add(wg, 1));
    weft_wg_wait(wg);  /* nobody calls done */
    return 1;
  }
  if (strcmp(scenario, "chans") == 0 || strcmp(scenario, "off") == 0) {
    CHECK_OK(weft_chan_make(sizeof(int), 0, &never));
    CHECK_OK(weft_chan_make(sizeof(int), 0, &never2));
    CHECK_OK(weft_chan_make(sizeof(int), 0, &out));
    task_opts(&o, "rx");
    CHECK_OK(weft_go_opts(receiver, NULL, &o));
    task_opts(&o, "rx2");
    CHECK_OK(weft_go_opts(receiver, NULL, &o));
    task_opts(&o, "tx");
    CHECK_OK(weft_go_opts(sender, NULL, &o));
    int v;
    weft_chan_recv(out, &v);
    return 1;
  }
  if (strcmp(scenario, "timer") == 0) {
    CHECK_OK(weft_chan_make(sizeof(int), 0, &out));
    CHECK_OK(weft_go(sleeper, NULL));
    int v = 0;
    CHECK_OK(weft_chan_recv(out, &v));
    CHECK(v == 7);
    return 0;
  }
  if (strcmp(scenario, "thread") == 0) {
    CHECK_OK(weft_chan_make(sizeof(int), 0, &out));
    weft_wg_t *wg;
    CHECK_OK(weft_wg_make(&wg));
    CHECK_OK(weft_wg_go(wg, waiter_task, wg));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, plain_thread, NULL) == 0);
    int v = 0;
    CHECK_OK(weft_chan_recv(out, &v));
    CHECK(v == 7);
    CHECK_OK(weft_wg_wait(wg));
    pthread_join(t, NULL);
    return 0;
  }
  return 3;
}

/* Runs this program as scenario with WEFT_DEADLOCK=mode (NULL: unset). Returns
 * the exit status (128+signal if killed) and the stderr text in buf. In report
 * mode a deadlocked child keeps hanging after its report: it is killed once the
 * report is complete, or after limit_ms. */
static int run_scenario(const char *self, const char *scenario, const char *mode, char *buf, size_t cap,
                        int limit_ms) {
  if (mode) setenv("WEFT_DEADLOCK", mode, 1); else unsetenv("WEFT_DEADLOCK");
  setenv("WEFT_DEADLOCK_MS", "50", 1);
  setenv("WEFT_WORKERS", "2", 1);
  int fd;
  pid_t pid = spawn_child(self, scenario, &fd);
  size_t len = 0;
  int64_t until = weft_now_ns() + (int64_t)limit_ms * 1000000;
  int status = -1;
  for (;;) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
    /* read what is there without blocking */
    for (;;) {
      fd_set set;
      FD_ZERO(&set);
      FD_SET(fd, &set);
      struct timeval tv = {0, 0};
      if (select(fd + 1, &set, NULL, NULL, &tv) <= 0) break;
      ssize_t n = read(fd, buf + len, cap - 1 - len);
      if (n <= 0) break;
      len += (size_t)n;
    }
    buf[len] = 0;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    /* A complete report ends with the last task line; give it a moment. */
    if ((strstr(buf, "deadlock!") && weft_now_ns() + 300000000LL > until) || weft_now_ns() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      status = 128 + SIGKILL;
      break;
    }
    if (strstr(buf, "deadlock!") && until - weft_now_ns() > 500000000LL) until = weft_now_ns() + 500000000LL;
  }
  ssize_t n;
  while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)n;
  buf[len] = 0;
  close(fd);
  return status;
}

#define EXPECT_IN(text, what)                                                      \
  do {                                                                             \
    if (!strstr((text), (what))) {                                                 \
      fprintf(stderr, "expected \"%s\" in the child's stderr:\n%s\n", (what), (text)); \
      exit(1);                                                                     \
    }                                                                              \
  } while (0)

int main(int argc, char **argv) {
  if (argc > 1) return child(argv[1]);
  static char buf[1 << 16];
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  CHECK(n > 0);
  self[n] = 0;

  int st = run_scenario(self, "mutex_cycle", "report", buf, sizeof buf, 10000);
  fprintf(stderr, "--- mutex_cycle (report), status %d:\n%s", st, buf);
  EXPECT_IN(buf, "weft: all tasks are asleep - deadlock!");
  EXPECT_IN(buf, "'alpha': waiting in mutex lock on mutex 0x");
  EXPECT_IN(buf, "'beta': waiting in mutex lock on mutex 0x");
  EXPECT_IN(buf, "(main): waiting in waitgroup wait on waitgroup 0x");
  EXPECT_IN(buf, "wait-for cycle: task");
  EXPECT_IN(buf, "held by task");
  CHECK(strstr(strstr(buf, "deadlock!") + 1, "deadlock!") == NULL);  /* reported once */

  st = run_scenario(self, "chans", "abort", buf, sizeof buf, 10000);
  fprintf(stderr, "--- chans (abort), status %d:\n%s", st, buf);
  CHECK(st == 2);
  EXPECT_IN(buf, "weft: all tasks are asleep - deadlock!");
  EXPECT_IN(buf, "'rx': waiting in chan recv on channel 0x");
  EXPECT_IN(buf, "'tx': waiting in chan send on channel 0x");
  EXPECT_IN(buf, "(main): waiting in chan recv on channel 0x");
  EXPECT_IN(buf, "2 waiters on 0x");

  st = run_scenario(self, "timer", "abort", buf, sizeof buf, 10000);
  fprintf(stderr, "--- timer (abort), status %d:\n%s", st, buf);
  CHECK(st == 0);
  CHECK(strstr(buf, "deadlock") == NULL);

  st = run_scenario(self, "thread", "abort", buf, sizeof buf, 10000);
  fprintf(stderr, "--- thread (abort), status %d:\n%s", st, buf);
  CHECK(st == 0);
  CHECK(strstr(buf, "deadlock") == NULL);

  st = run_scenario(self, "off", NULL, buf, sizeof buf, 1500);
  fprintf(stderr, "--- off, status %d:\n%s", st, buf);
  CHECK(st == 128 + SIGKILL);  /* hangs, silently */
  CHECK(strstr(buf, "deadlock") == NULL);
  printf("deadlock report: ok\n");
  return 0;
}
