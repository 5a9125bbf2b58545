/* weft_shutdown releases every waiter with WEFT_ESHUTDOWN: a plain thread
 * blocked (before shutdown began) in each blocking call, and tasks parked past
 * the grace period (their cleanup runs; stats count nothing afterwards).
 * weft_group_wait and weft_collect called during the grace period return
 * WEFT_ESHUTDOWN promptly while their tasks still run (never 0, no busy loop). */
#define _GNU_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { GRACE_MS = 300 };

static weft_chan_t *never;     /* only ever received from */
static weft_chan_t *no_taker;  /* only ever sent to */
static weft_wg_t *wg;          /* counts 1, never done */
static weft_group_t *group, *late_group;
static weft_ctx_t *group_ctx, *late_ctx, *cancelable;
static weft_future_t *future;
static weft_mutex_t *held, *cond_mu;
static weft_cond_t *cond;
static weft_sem_t *sem;
static atomic_int group_task_done, late_task_done, task_cleanups, blocked;

static int stuck_fn(weft_ctx_t *ctx, void *arg, void *out) {
  (void)ctx; (void)arg; (void)out;
  int v;
  return weft_chan_recv(never, &v);
}

static int group_task(weft_ctx_t *ctx, void *arg) {
  (void)ctx;
  int v;
  weft_chan_recv(never, &v); /* until shutdown resumes it */
  atomic_store((atomic_int *)arg, 1);
  return 0; /* ignores the error: wait must still not return 0 before this */
}

static void parked_task(void *arg) {
  int v;
  int rc = arg ? weft_sleep_ns(60LL * 1000000000) : weft_chan_recv(never, &v);
  CHECK_CODE(rc, WEFT_ESHUTDOWN);
  atomic_fetch_add(&task_cleanups, 1);
}

typedef struct { const char *name; int rc; } call_t;

static int do_call(const char *name) {
  int v = 1;
  if (!strcmp(name, "wg_wait")) return weft_wg_wait(wg);
  if (!strcmp(name, "group_wait")) return weft_group_wait(group);
  if (!strcmp(name, "future_await")) return weft_future_await(future, NULL, &v);
  if (!strcmp(name, "collect")) {
    weft_job jobs[3] = {{stuck_fn, NULL}, {stuck_fn, NULL}, {stuck_fn, NULL}};
    int errs[3] = {1, 1, 1};
    int64_t n = weft_collect(NULL, jobs, 3, 0, NULL, errs, 0);
    CHECK(n == 0);
    for (int i = 0; i < 3; i++) CHECK(errs[i] != 0 && errs[i] != 1);
    return errs[0];
  }
  if (!strcmp(name, "chan_recv")) return weft_chan_recv(never, &v);
  if (!strcmp(name, "chan_send")) return weft_chan_send(no_taker, &v);
  if (!strcmp(name, "mutex_lock")) return weft_mutex_lock(held);
  if (!strcmp(name, "sem_acquire")) return weft_sem_acquire(sem, 1);
  if (!strcmp(name, "cond_wait")) {
    CHECK_OK(weft_mutex_lock(cond_mu));
    int rc = weft_cond_wait(cond);
    return rc;
  }
  if (!strcmp(name, "ctx_wait")) return weft_ctx_wait(cancelable);
  if (!strcmp(name, "sleep")) return weft_sleep_ns(60LL * 1000000000);
  if (!strcmp(name, "select")) {
    weft_case c[2] = {{never, WEFT_CASE_RECV, &v, 0}, {no_taker, WEFT_CASE_SEND, &v, 0}};
    return weft_select(c, 2, 0, WEFT_NO_DEADLINE);
  }
  CHECK(!"unknown call");
  return 0;
}

static void *blocker(void *raw) {
  call_t *c = raw;
  atomic_fetch_add(&blocked, 1);
  c->rc = do_call(c->name);
  return NULL;
}

static void *shutter(void *raw) {
  *(int *)raw = weft_shutdown();
  return NULL;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static void noop(void *arg) { (void)arg; }

int main(void) {
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 2;
  cfg.shutdown_grace_ns = GRACE_MS * 1000000LL;
  CHECK_OK(weft_init(&cfg));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &never));
  CHECK_OK(weft_chan_make(sizeof(int), 0, &no_taker));
  CHECK_OK(weft_wg_make(&wg));
  CHECK_OK(weft_wg_add(wg, 1));
  CHECK_OK(weft_group_make(NULL, &group, &group_ctx));
  CHECK_OK(weft_group_go(group, group_task, &group_task_done));
  CHECK_OK(weft_group_make(NULL, &late_group, &late_ctx));
  CHECK_OK(weft_group_go(late_group, group_task, &late_task_done));
  CHECK_OK(weft_future_spawn(NULL, sizeof(int), stuck_fn, NULL, &future));
  CHECK_OK(weft_mutex_make(&held));
  CHECK_OK(weft_mutex_lock(held));
  CHECK_OK(weft_mutex_make(&cond_mu));
  CHECK_OK(weft_cond_make(cond_mu, &cond));
  CHECK_OK(weft_sem_make(1, &sem));
  CHECK_OK(weft_sem_acquire(sem, 1));
  CHECK_OK(weft_ctx_with_cancel(NULL, &cancelable));
  CHECK_OK(weft_go(parked_task, NULL));
  CHECK_OK(weft_go(parked_task, (void *)1));

  static call_t calls[] = {{"wg_wait", 1},   {"group_wait", 1}, {"future_await", 1}, {"collect", 1},
                           {"chan_recv", 1}, {"chan_send", 1},  {"mutex_lock", 1},   {"sem_acquire", 1},
                           {"cond_wait", 1}, {"ctx_wait", 1},   {"sleep", 1},        {"select", 1}};
  enum { NCALLS = sizeof calls / sizeof calls[0] };
  pthread_t threads[NCALLS];
  for (int i = 0; i < NCALLS; i++) CHECK(pthread_create(&threads[i], NULL, blocker, &calls[i]) == 0);
  while (atomic_load(&blocked) < NCALLS) usleep(1000);
  usleep(200 * 1000); /* all blocked by now */
  for (int i = 0; i < NCALLS; i++) {
    if (calls[i].rc != 1) fprintf(stderr, "%s returned %s early\n", calls[i].name, weft_err_name(calls[i].rc));
    CHECK(calls[i].rc == 1);
  }

  double cpu0 = cpu_seconds();
  int64_t start = weft_now_ns();
  int shutdown_rc = 1;
  pthread_t shut;
  CHECK(pthread_create(&shut, NULL, shutter, &shutdown_rc) == 0);
  while (weft_go(noop, NULL) != WEFT_ESHUTDOWN) usleep(100); /* the grace period began */

  /* During the grace period, with their tasks still parked. */
  int64_t t0 = weft_now_ns();
  CHECK_CODE(weft_group_wait(late_group), WEFT_ESHUTDOWN);
  CHECK(!atomic_load(&late_task_done));
  weft_job jobs[2] = {{stuck_fn, NULL}, {stuck_fn, NULL}};
  int errs[2] = {1, 1};
  CHECK(weft_collect(NULL, jobs, 2, 0, NULL, errs, 0) == 0);
  CHECK_CODE(errs[0], WEFT_ESHUTDOWN);
  CHECK_CODE(errs[1], WEFT_ESHUTDOWN);
  CHECK(weft_now_ns() - t0 < 100 * 1000000LL); /* at once, not at the end of the grace */

  CHECK(pthread_join(shut, NULL) == 0);
  int64_t took = weft_now_ns() - start;
  double cpu = cpu_seconds() - cpu0;
  printf("shutdown %d in %lld ms, %.0f ms of CPU\n", shutdown_rc, (long long)(took / 1000000), cpu * 1000);
  CHECK_CODE(shutdown_rc, WEFT_ETIMEDOUT);
  CHECK(took >= GRACE_MS * 1000000LL && took < (GRACE_MS + 2000) * 1000000LL);
  CHECK(cpu < 0.5 * (double)took / 1e9); /* nobody spun through the grace period */

  for (int i = 0; i < NCALLS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    printf("%-13s -> %s\n", calls[i].name, weft_err_name(calls[i].rc));
    if (!strcmp(calls[i].name, "group_wait") && calls[i].rc == 0) {
      CHECK(atomic_load(&group_task_done)); /* 0 only once its task really finished */
      continue;
    }
    CHECK_CODE(calls[i].rc, WEFT_ESHUTDOWN);
  }
  CHECK(atomic_load(&task_cleanups) == 2);
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  printf("after: live %llu parked %llu\n", (unsigned long long)st.tasks_live,
         (unsigned long long)st.tasks_parked);
  CHECK(st.tasks_live == 0 && st.tasks_parked == 0);
  return 0;
}
