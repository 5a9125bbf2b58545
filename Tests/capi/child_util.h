/* Runs this test program again as a child process ("prog MODE") with
 * SWIFT_BACKTRACE=enable=no (for children that crash on purpose), collecting
 * its stderr. For tests whose subject ends the process or needs fresh limits. */
#ifndef WEFT_TEST_CHILD_UTIL_H
#define WEFT_TEST_CHILD_UTIL_H

#include "check.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts "self mode" with its stderr on a pipe; returns the pid and the
 * pipe's read end in *err_fd. Extra environment: set it before the call. */
static inline pid_t spawn_child(const char *self, const char *mode, int *err_fd) {
  fflush(stdout);
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    setenv("SWIFT_BACKTRACE", "enable=no", 1);
    execl(self, self, mode, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  *err_fd = fds[0];
  return pid;
}

/* Returns the child's wait status; its stderr (NUL-terminated) in err. */
static inline int run_child(const char *self, const char *mode, char *err, size_t size) {
  int fd;
  pid_t pid = spawn_child(self, mode, &fd);
  size_t len = 0;
  ssize_t got;
  while (len < size - 1 && (got = read(fd, err + len, size - 1 - len)) > 0) len += (size_t)got;
  err[len] = 0;
  close(fd);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  return status;
}

#endif
