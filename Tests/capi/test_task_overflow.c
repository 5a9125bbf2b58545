/* A task that overflows its stack aborts the process with a message naming the
 * task; it never silently corrupts memory. Runs the overflow in a child process. */
#include "check.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int recurse(int depth) {
  volatile char pad[512];
  pad[0] = (char)depth;
  return depth > 1000000 ? pad[0] : recurse(depth + 1) + pad[0];
}

static void overflow(void *arg) {
  (void)arg;
  recurse(0);
}

int main(void) {
  int pipefd[2];
  CHECK(pipe(pipefd) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(pipefd[1], 2);
    weft_task_opts opts;
    weft_task_opts_init(&opts);
    opts.name = "deep-recursion";
    CHECK_OK(weft_go_opts(overflow, NULL, &opts));
    weft_sleep_ns(5LL * 1000000000);
    _exit(0); /* must not get here */
  }
  close(pipefd[1]);
  char buf[4096] = {0};
  size_t used = 0;
  ssize_t n;
  while (used < sizeof buf - 1 && (n = read(pipefd[0], buf + used, sizeof buf - 1 - used)) > 0)
    used += (size_t)n;
  int status = 0;
  waitpid(pid, &status, 0);
  printf("child status %d, stderr: %s\n", status, buf);
  CHECK(WIFSIGNALED(status)); /* aborted, or killed by the guard page's SIGSEGV */
  CHECK(WTERMSIG(status) == SIGABRT || WTERMSIG(status) == SIGSEGV);
  CHECK(strstr(buf, "stack overflow") != NULL);
  CHECK(strstr(buf, "deep-recursion") != NULL);
  return 0;
}
