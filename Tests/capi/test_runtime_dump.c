/* weft_dump_tasks names every live task, its state and what it waits on;
 * weft_stats_get counts them. */
#include "check.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

static weft_chan_t *never;
static atomic_int parked;

static void waits_on_channel(void *arg) {
  (void)arg;
  atomic_fetch_add(&parked, 1);
  int v;
  CHECK_CODE(weft_chan_recv(never, &v), WEFT_ECLOSED);
}

static void sleeps(void *arg) {
  (void)arg;
  atomic_fetch_add(&parked, 1);
  CHECK_OK(weft_sleep_ns(200 * 1000000LL));
}

int main(void) {
  CHECK_OK(weft_chan_make(sizeof(int), 0, &never));
  weft_task_opts opts;
  weft_task_opts_init(&opts);
  opts.name = "listener";
  for (int i = 0; i < 3; i++) CHECK_OK(weft_go_opts(waits_on_channel, NULL, &opts));
  opts.name = "napper";
  CHECK_OK(weft_go_opts(sleeps, NULL, &opts));
  while (atomic_load(&parked) < 4) weft_sleep_ns(1000000);
  weft_sleep_ns(20 * 1000000); /* let them park */

  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  CHECK(st.tasks_live == 4);
  CHECK(st.tasks_parked == 4);
  CHECK(st.timers_pending >= 1);
  CHECK(st.deadlocked == 0); /* the napper's timer can still wake it */
  /* A caller built against an older, smaller weft_stats still works. */
  struct { weft_stats s; char guard[16]; } old;
  memset(&old, 0x5a, sizeof old);
  old.s.size = offsetof(weft_stats, deadlocked);
  CHECK_OK(weft_stats_get(&old.s));
  CHECK(old.s.size == offsetof(weft_stats, deadlocked) && old.s.tasks_live == 4);
  CHECK(((unsigned char *)&old.s)[offsetof(weft_stats, deadlocked)] == 0x5a); /* untouched */
  old.s.size = offsetof(weft_stats, runq_len); /* too small to be any version */
  CHECK_CODE(weft_stats_get(&old.s), WEFT_EINVAL);
  CHECK(st.workers >= 1 && st.workers <= WEFT_STATS_MAX_WORKERS);

  FILE *f = tmpfile();
  CHECK(f != NULL);
  CHECK_OK(weft_dump_tasks(fileno(f)));
  char text[8192] = {0};
  rewind(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  printf("%.*s", (int)n, text);
  CHECK(strstr(text, "4 live tasks") != NULL);
  int listeners = 0;
  for (char *p = text; (p = strstr(p, "'listener': parked on chan recv")) != NULL; p++) listeners++;
  CHECK(listeners == 3);
  CHECK(strstr(text, "'napper': parked on sleep") != NULL);

  /* Once the napper is gone, nothing in the runtime can wake the listeners. */
  for (int i = 0; i < 1000 && !st.deadlocked; i++) {
    weft_sleep_ns(1000000);
    CHECK_OK(weft_stats_get(&st));
  }
  CHECK(st.deadlocked == 1 && st.tasks_live == 3);

  CHECK_OK(weft_chan_close(never)); /* the main thread can: wakes the listeners */
  for (int i = 0; i < 1000; i++) {
    CHECK_OK(weft_stats_get(&st));
    if (st.tasks_live == 0) break;
    weft_sleep_ns(1000000);
  }
  CHECK(st.tasks_live == 0 && st.tasks_parked == 0 && st.deadlocked == 0);
  CHECK_OK(weft_chan_release(never));
  CHECK_OK(weft_shutdown());
  return 0;
}
