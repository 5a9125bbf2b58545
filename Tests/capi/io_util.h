/* Helpers of the I/O tests: stats, fd counting, waiting for a condition. */
#ifndef WEFT_TEST_IO_UTIL_H
#define WEFT_TEST_IO_UTIL_H
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

#define MS 1000000LL

static inline uint64_t io_polls_active(void) {
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  return st.io_polls_active;
}

static inline uint64_t tasks_live(void) {
  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  return st.tasks_live;
}

/* Waits up to 10 s for the registrations to drain (a cancel seen on another
 * worker is posted to the owner loop, which a loaded machine may run late),
 * then checks. */
static inline void expect_no_polls(void) {
  for (int i = 0; i < 10000 && io_polls_active() != 0; i++) weft_sleep_ns(MS);
  CHECK(io_polls_active() == 0);
}

static inline void expect_no_tasks(void) {
  for (int i = 0; i < 2000 && tasks_live() != 0; i++) weft_sleep_ns(MS);
  CHECK(tasks_live() == 0);
}

static inline int open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  CHECK(d != NULL);
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static inline void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

#endif
