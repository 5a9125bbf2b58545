/*
 * bench.h — shared helpers of the Weft ports of /work/shared/peers (WORKLOADS.md).
 *
 * Every port:
 *  - parses Go-style flags (-n 100000, -n=100000, --n 100000; durations like 50ms);
 *  - starts the runtime (weft_init, workers from $WEFT_WORKERS) before any timing;
 *  - runs Go's "main" role as one task (bench_run_main) while the main thread waits
 *    for it inside the timed region, so every hand-off stays on the workers;
 *  - prints exactly one JSON line like the Go peers' report() (impl "weft",
 *    gomaxprocs = the runtime's worker count, version = weft_version_string());
 *  - on a wrong result prints "VERIFY FAILED: ..." to stderr and exits 1; on a failing
 *    weft_* call prints "ERROR: ..." and exits 2.
 */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#define BENCH_FN static __attribute__((unused))

BENCH_FN inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((format(printf, 1, 2), noreturn, unused)) static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("VERIFY FAILED: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stdout);
  _exit(1);
}

__attribute__((noreturn, unused)) static void die_call(const char *what, int rc, int line) {
  fprintf(stderr, "ERROR: %s (line %d) returned %d %s: %s\n", what, line, rc,
          weft_err_name(rc), weft_strerror(rc));
  fflush(stdout);
  _exit(2);
}

/* CHECK(weft_call(...)) — any negative result is fatal. */
#define CHECK(expr)                                  \
  do {                                               \
    int rc_ = (int)(expr);                           \
    if (rc_ < 0) die_call(#expr, rc_, __LINE__);     \
  } while (0)

/* ------------------------------------------------------------- arguments */

BENCH_FN const char *arg_raw(int argc, char **argv, const char *name) {
  size_t len = strlen(name);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') continue;
    a++;
    if (a[0] == '-') a++;
    if (strncmp(a, name, len) != 0) continue;
    if (a[len] == '=') return a + len + 1;
    if (a[len] == '\0' && i + 1 < argc) return argv[i + 1];
  }
  return NULL;
}

BENCH_FN int64_t arg_i64(int argc, char **argv, const char *name, int64_t dflt) {
  const char *v = arg_raw(argc, argv, name);
  return v ? strtoll(v, NULL, 10) : dflt;
}

/* Go durations: 50ms, 20ms, 1s, 500us, 100ns, or plain nanoseconds. */
BENCH_FN int64_t arg_dur_ns(int argc, char **argv, const char *name, int64_t dflt) {
  const char *v = arg_raw(argc, argv, name);
  if (!v) return dflt;
  char *end;
  double x = strtod(v, &end);
  if (!strcmp(end, "ms")) return (int64_t)(x * 1e6);
  if (!strcmp(end, "us") || !strcmp(end, "µs")) return (int64_t)(x * 1e3);
  if (!strcmp(end, "ns") || !*end) return (int64_t)x;
  if (!strcmp(end, "s")) return (int64_t)(x * 1e9);
  fprintf(stderr, "bad duration %s\n", v);
  exit(2);
}

/* --------------------------------------------------------------- runtime */

BENCH_FN void bench_start_runtime(void) {
  int rc = weft_init(NULL); /* workers: $WEFT_WORKERS, else one per core */
  if (rc < 0 && rc != WEFT_EBUSY) die_call("weft_init(NULL)", rc, __LINE__);
  if (weft_version() != (unsigned)WEFT_VERSION_HEX)
    fprintf(stderr, "warning: header %#x, library %#x\n", (unsigned)WEFT_VERSION_HEX,
            weft_version());
}

BENCH_FN unsigned bench_workers(void) {
  weft_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  if (weft_stats_get(&st) < 0) return 0;
  return st.workers;
}

/* Runs fn(arg) as one task (Go's main goroutine) and blocks the calling thread until
 * it returned. The wait is a pthread condition variable, so it does not depend on
 * any Weft primitive; it costs one futex wake-up at the end. */
typedef struct {
  weft_fn fn;
  void *arg;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} bench_main_t;

BENCH_FN void bench_main_body(void *p) {
  bench_main_t *m = p;
  m->fn(m->arg);
  pthread_mutex_lock(&m->mu);
  m->done = 1;
  pthread_cond_signal(&m->cv);
  pthread_mutex_unlock(&m->mu);
}

BENCH_FN void bench_run_main(weft_fn fn, void *arg) {
  static bench_main_t m;
  m.fn = fn;
  m.arg = arg;
  m.done = 0;
  pthread_mutex_init(&m.mu, NULL);
  pthread_cond_init(&m.cv, NULL);
  weft_task_opts o;
  weft_task_opts_init(&o);
  o.name = "main";
  CHECK(weft_go_opts(bench_main_body, &m, &o));
  pthread_mutex_lock(&m.mu);
  while (!m.done) pthread_cond_wait(&m.cv, &m.mu);
  pthread_mutex_unlock(&m.mu);
  if (getenv("BENCH_STATS")) { /* the scheduler's counters, for FINDINGS.md */
    weft_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    if (weft_stats_get(&st) == 0)
      fprintf(stderr, "stats: workers=%u spawned=%llu switches=%llu steals=%llu\n", st.workers,
              (unsigned long long)st.tasks_spawned, (unsigned long long)st.switches,
              (unsigned long long)st.steals);
  }
}

/* --------------------------------------------------------------- report */

/* A field of /proc/self/status ("VmHWM", "VmRSS") in kB, -1 if missing. */
BENCH_FN int64_t status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  size_t len = strlen(field);
  int64_t v = -1;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, field, len) && line[len] == ':') {
      v = strtoll(line + len + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

/* Go's math.Round(x*100)/100 printed the way encoding/json prints it (shortest). */
BENCH_FN const char *num2(double x, char *buf) {
  double r = round(x * 100) / 100;
  snprintf(buf, 40, "%.2f", r);
  char *dot = strchr(buf, '.');
  if (dot) {
    char *e = buf + strlen(buf) - 1;
    while (e > dot && *e == '0') *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  if (!strcmp(buf, "-0")) strcpy(buf, "0");
  return buf;
}

/* Go's ms(): milliseconds rounded to 0.01. */
BENCH_FN double ms(int64_t ns) { return round((double)ns / 1e4) / 100; }

/* Appends ", \"key\": value" to an extra-fields buffer. */
BENCH_FN void extra_num(char *buf, size_t cap, const char *key, double v) {
  char b[48];
  size_t l = strlen(buf);
  snprintf(buf + l, cap - l, ", \"%s\": %s", key, num2(v, b));
}
BENCH_FN void extra_int(char *buf, size_t cap, const char *key, int64_t v) {
  size_t l = strlen(buf);
  snprintf(buf + l, cap - l, ", \"%s\": %lld", key, (long long)v);
}
BENCH_FN void extra_u64(char *buf, size_t cap, const char *key, uint64_t v) {
  size_t l = strlen(buf);
  snprintf(buf + l, cap - l, ", \"%s\": %llu", key, (unsigned long long)v);
}
BENCH_FN void extra_str(char *buf, size_t cap, const char *key, const char *v) {
  size_t l = strlen(buf);
  snprintf(buf + l, cap - l, ", \"%s\": \"%s\"", key, v);
}

/* The one JSON result line; op_ns / n is ns_per_op. extra: ", \"k\": v" pairs. */
BENCH_FN void report(const char *workload, int64_t n, int64_t op_ns, const char *extra) {
  double ns = (double)op_ns / (double)n;
  char b1[48];
  printf("{\"workload\": \"%s\", \"impl\": \"weft\", \"n\": %lld, \"ns_per_op\": %s, "
         "\"ops_per_s\": %.0f, \"peak_rss_kb\": %lld, \"gomaxprocs\": %u, "
         "\"version\": \"%s\"%s}\n",
         workload, (long long)n, num2(ns, b1), round(1e9 / ns),
         (long long)status_kb("VmHWM"), bench_workers(), weft_version_string(),
         extra ? extra : "");
  fflush(stdout);
}

/* Lifts RLIMIT_NOFILE as far as it goes (to 65536 where root may raise it:
 * both ends of every connection live in one process); returns the limit. */
BENCH_FN int64_t bench_raise_nofile(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  struct rlimit more = {65536, 65536};
  if (rl.rlim_max < more.rlim_max) setrlimit(RLIMIT_NOFILE, &more);
  getrlimit(RLIMIT_NOFILE, &rl);
  return (int64_t)rl.rlim_cur;
}

/* Accepts on listener until it is closed, handing each connection to handle
 * on the accepting task. */
BENCH_FN void bench_accept_loop(weft_sock_t *listener, void (*handle)(weft_sock_t *)) {
  for (;;) {
    weft_sock_t *c;
    int rc = weft_sock_accept(listener, &c);
    if (rc == WEFT_ECLOSED) break;
    CHECK(rc);
    handle(c);
  }
}

#endif /* WEFT_BENCH_H */
