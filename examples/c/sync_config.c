/* A read-mostly configuration under an RWMutex: many reader tasks look up the
 * current config constantly; a writer replaces it now and then. Readers never
 * see a half-written config (its two fields always agree).
 *   usage: sync_config [--test] */
#include "weft.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef struct config {
  long version;
  long checksum; /* always version * 7: a torn read would break it */
  char name[32];
} config;

static weft_rwmutex_t *rw;
static config current = {1, 7, "config-1"};
static atomic_long reads, torn;
static atomic_int stop;

static void reader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    weft_rwmutex_rlock(rw);
    config seen = current;
    weft_rwmutex_runlock(rw);
    if (seen.checksum != seen.version * 7) atomic_fetch_add(&torn, 1);
    atomic_fetch_add(&reads, 1);
    weft_yield();
  }
}

static void writer(void *arg) {
  long updates = (long)(intptr_t)arg;
  for (long v = 2; v <= updates + 1; v++) {
    weft_sleep_ns(200000); /* 0.2 ms between updates */
    weft_rwmutex_lock(rw);
    current.version = v;
    snprintf(current.name, sizeof current.name, "config-%ld", v);
    current.checksum = v * 7;
    weft_rwmutex_unlock(rw);
  }
  atomic_store(&stop, 1);
}

int main(int argc, char **argv) {
  int test = argc > 1 && strcmp(argv[1], "--test") == 0;
  long updates = test ? 50 : 2000;
  weft_wg_t *wg;
  if (weft_rwmutex_make(&rw) != 0 || weft_wg_make(&wg) != 0) return 1;
  for (int i = 0; i < 16; i++) weft_wg_go(wg, reader, NULL);
  weft_wg_go(wg, writer, (void *)(intptr_t)updates);
  weft_wg_wait(wg);
  printf("%ld reads, %ld updates, final %s, torn reads %ld\n", atomic_load(&reads), updates,
         current.name, atomic_load(&torn));
  int rc = atomic_load(&torn) == 0 && current.version == updates + 1 && atomic_load(&reads) > 0 ? 0 : 1;
  weft_rwmutex_release(rw);
  weft_wg_release(wg);
  return rc;
}
