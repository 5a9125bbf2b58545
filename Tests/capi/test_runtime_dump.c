/* weft_dump_tasks names every live task, its state and what it waits on;
 * weft_stats_get counts them. */
#include "check.h"

#include <stdatomic.h>
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

  CHECK_OK(weft_chan_close(never)); /* wakes the listeners */
  for (int i = 0; i < 1000; i++) {
    CHECK_OK(weft_stats_get(&st));
    if (st.tasks_live == 0) break;
    weft_sleep_ns(1000000);
  }
  CHECK(st.tasks_live == 0 && st.tasks_parked == 0);
  CHECK_OK(weft_chan_release(never));
  CHECK_OK(weft_shutdown());
  return 0;
}
