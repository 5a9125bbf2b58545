/* A lazily built singleton with Once: many tasks (and a plain thread) ask for
 * the shared table at once; it is built exactly once, and nobody sees it
 * before it is complete.
 *   usage: sync_singleton [--test] */
#include "weft.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct table {
  int size;
  long *squares;
} table;

static weft_once_t *once;
static table *instance;
static atomic_int builds, bad;

static void build(void *arg) {
  int size = (int)(intptr_t)arg;
  atomic_fetch_add(&builds, 1);
  table *t = malloc(sizeof *t);
  t->size = size;
  t->squares = malloc(sizeof(long) * (size_t)size);
  for (int i = 0; i < size; i++) t->squares[i] = (long)i * i;
  weft_sleep_ns(5000000); /* slow to build: the others wait for it */
  instance = t;
}

static table *get_table(void) {
  weft_once_do(once, build, (void *)(intptr_t)1000);
  return instance;
}

static void user(void *arg) {
  int i = (int)(intptr_t)arg % 1000;
  table *t = get_table();
  if (t == NULL || t->size != 1000 || t->squares[i] != (long)i * i) atomic_fetch_add(&bad, 1);
}

static void *thread_user(void *arg) {
  user(arg);
  return NULL;
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  int users = test ? 1000 : 100000;
  weft_wg_t *wg;
  if (weft_once_make(&once) != 0 || weft_wg_make(&wg) != 0) return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, thread_user, (void *)(intptr_t)7);
  for (int i = 0; i < users; i++) weft_wg_go(wg, user, (void *)(intptr_t)i);
  weft_wg_wait(wg);
  pthread_join(thread, NULL);
  printf("%d users, built %d time(s), %d bad lookups\n", users + 1, atomic_load(&builds), atomic_load(&bad));
  int rc = atomic_load(&builds) == 1 && atomic_load(&bad) == 0 ? 0 : 1;
  free(instance->squares);
  free(instance);
  weft_once_release(once);
  weft_wg_release(wg);
  return rc;
}
