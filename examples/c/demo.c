/* The runtime-core demo: 100,000 tasks that each sleep a random 0-50 ms and
 * exit; the main thread waits for all of them and prints the elapsed time, the
 * peak RSS and the runtime's stats.
 *
 *   make demo              (or: demo [tasks])
 */
#include "weft.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long finished;

static void request(void *arg) {
  uintptr_t sleep_us = (uintptr_t)arg;
  weft_sleep_ns((int64_t)sleep_us * 1000);
  atomic_fetch_add(&finished, 1);
}

static long peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  long n = 100000;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--test") == 0) n = 10000; /* the test suite's short run */
    else n = atol(argv[i]);
  srand(42);
  printf("weft %s: spawning %ld tasks, each sleeping a random 0-50 ms...\n",
         weft_version_string(), n);
  int64_t start = weft_now_ns();
  for (long i = 0; i < n; i++) {
    int rc = weft_go(request, (void *)(uintptr_t)(rand() % 50000));
    if (rc != 0) {
      fprintf(stderr, "weft_go: %s\n", weft_strerror(rc));
      return 1;
    }
  }
  int64_t spawned = weft_now_ns();
  while (atomic_load(&finished) < n) weft_sleep_ns(1000000); /* the main thread blocks */
  int64_t end = weft_now_ns();

  weft_stats st = {.size = sizeof st};
  weft_stats_get(&st);
  printf("all %ld tasks finished in %.1f ms (spawning took %.1f ms)\n", n,
         (end - start) / 1e6, (spawned - start) / 1e6);
  printf("peak RSS %.1f MiB\n", peak_rss_kb() / 1024.0);
  printf("stats: workers %u, spawned %llu, finished %llu, live %llu, parked %llu,\n"
         "       switches %llu, steals %llu, timers pending %llu\n",
         st.workers, (unsigned long long)st.tasks_spawned,
         (unsigned long long)st.tasks_finished, (unsigned long long)st.tasks_live,
         (unsigned long long)st.tasks_parked, (unsigned long long)st.switches,
         (unsigned long long)st.steals, (unsigned long long)st.timers_pending);
  int rc = weft_shutdown();
  printf("shutdown: %s\n", weft_strerror(rc));
  return rc == 0 && atomic_load(&finished) == n ? 0 : 1;
}
