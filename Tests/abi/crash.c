/* Crashes on purpose, for check_crash.sh: crash.c WHERE, WHERE one of
 *   main      a NULL store in main, the library loaded but never called
 *   started   the same after the runtime started (its fault handler installed)
 *   task      a NULL store inside a task
 *   overflow  unbounded recursion inside a task (Weft's guard page) */
#include <weft.h>

#include <stdio.h>
#include <string.h>

static volatile int *volatile nowhere;

static void store_null(void *arg) {
  (void)arg;
  *nowhere = 1;
}

static int recurse(int depth) {
  volatile char pad[512];
  pad[0] = (char)depth;
  return depth > 10000000 ? pad[0] : recurse(depth + 1) + pad[0];
}

static void overflow(void *arg) {
  (void)arg;
  recurse(0);
}

int main(int argc, char **argv) {
  const char *where = argc > 1 ? argv[1] : "main";
  printf("crash: %s\n", where);
  fflush(stdout);
  if (strcmp(where, "main") == 0) store_null(NULL);
  if (strcmp(where, "started") == 0 && weft_init(NULL) == WEFT_OK) store_null(NULL);
  weft_task_opts opts;
  weft_task_opts_init(&opts);
  opts.name = where;
  if (strcmp(where, "task") == 0) weft_go_opts(store_null, NULL, &opts);
  if (strcmp(where, "overflow") == 0) weft_go_opts(overflow, NULL, &opts);
  weft_sleep_ns(10LL * 1000000000);
  return 0; /* not reached */
}
