/* fork after the runtime started: in the child the runtime counts as shut down
 * (its workers do not exist there), so every call that needs it returns
 * WEFT_ESHUTDOWN instead of silently doing nothing, and stats report no
 * workers. The parent keeps working. */
#define _GNU_SOURCE
#include "check.h"

#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int ran;

static void job(void *arg) {
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

static int wait_ran(int n) {
  for (int i = 0; i < 5000 && atomic_load(&ran) < n; i++) usleep(1000);
  return atomic_load(&ran);
}

static int child(weft_chan_t *ch, weft_wg_t *wg) {
  int v = 1;
  CHECK_CODE(weft_go(job, NULL), WEFT_ESHUTDOWN);
  CHECK_CODE(weft_wg_go(wg, job, NULL), WEFT_ESHUTDOWN);
  CHECK_CODE(weft_chan_recv(ch, &v), WEFT_ESHUTDOWN); /* would block */
  CHECK_CODE(weft_sleep_ns(1000000), WEFT_ESHUTDOWN);
  CHECK_CODE(weft_init(NULL), WEFT_ESHUTDOWN);
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  CHECK(st.workers == 0 && st.tasks_live == 0);
  CHECK_OK(weft_shutdown());
  usleep(20 * 1000);
  CHECK(atomic_load(&ran) == 1); /* nothing ran in the child */
  return 0;
}

int main(void) {
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 2;
  CHECK_OK(weft_init(&cfg));
  weft_chan_t *ch;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &ch));
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  CHECK_OK(weft_go(job, NULL));
  CHECK(wait_ran(1) == 1);

  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(child(ch, wg));
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  for (int i = 0; i < 10; i++) CHECK_OK(weft_wg_go(wg, job, NULL));
  CHECK_OK(weft_wg_wait(wg));
  CHECK(wait_ran(11) == 11);
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  CHECK(st.workers == 2);
  weft_wg_release(wg);
  weft_chan_release(ch);
  CHECK_OK(weft_shutdown());
  return 0;
}
