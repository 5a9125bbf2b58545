/* Worker threads that cannot be created: with the address space nearly used up
 * (RLIMIT_AS a little above what the process has), weft_init asks for 64
 * workers. pthread_create fails for most; the runtime runs with the ones it got,
 * says so on stderr, and weft_stats reports exactly the threads that exist.
 * Runs in a child process. */
#define _GNU_SOURCE
#include "child_util.h"

#include <dirent.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_int ran;

static void job(void *arg) {
  (void)arg;
  weft_sleep_ns(1000000);
  atomic_fetch_add(&ran, 1);
}

static int threads_now(void) {
  DIR *d = opendir("/proc/self/task");
  CHECK(d != NULL);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static int child(void) {
  int before = threads_now();
  FILE *f = fopen("/proc/self/statm", "r");
  CHECK(f != NULL);
  long pages = 0;
  CHECK(fscanf(f, "%ld", &pages) == 1);
  fclose(f);
  rlim_t limit = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (40u << 20);
  struct rlimit lim = {limit, RLIM_INFINITY}; /* soft: raised again below */
  CHECK(setrlimit(RLIMIT_AS, &lim) == 0);
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 64;
  int rc = weft_init(&cfg);
  if (rc == WEFT_ENOMEM) { /* not even one: refused, and said so */
    fprintf(stderr, "no worker could start\n");
    return 0;
  }
  CHECK_OK(rc);
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  int threads = threads_now();
  printf("workers reported %u, threads %d (before init %d)\n", st.workers, threads, before);
  CHECK(st.workers >= 1 && st.workers < 64);
  CHECK((int)st.workers == threads - before);
  /* The runtime works with the workers it has (within the same limit). */
  struct rlimit more = {RLIM_INFINITY, RLIM_INFINITY};
  CHECK(setrlimit(RLIMIT_AS, &more) == 0);
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  for (int i = 0; i < 200; i++) CHECK_OK(weft_wg_go(wg, job, NULL));
  CHECK_OK(weft_wg_wait(wg));
  CHECK(atomic_load(&ran) == 200);
  weft_wg_release(wg);
  CHECK_OK(weft_shutdown());
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) return child();
  char err[4096];
  int status = run_child(argv[0], "child", err, sizeof err);
  printf("child stderr: %s", err);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(strstr(err, "weft: started ") != NULL || strstr(err, "no worker") != NULL);
  return 0;
}
