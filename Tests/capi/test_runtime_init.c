/* weft_init before first use: worker count and default stack size take effect;
 * version macros match the library. */
#include "check.h"

#include <stdatomic.h>
#include <string.h>

static atomic_int done;

static void deep(void *arg) {
  /* Uses ~200 KiB of stack: fine with a 512 KiB default, fatal with 64 KiB. */
  volatile char buf[200 * 1024];
  memset((char *)buf, 1, sizeof buf);
  (void)arg;
  atomic_fetch_add(&done, buf[100]);
}

int main(void) {
  CHECK(weft_version() == WEFT_VERSION_HEX);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR,
           WEFT_VERSION_PATCH);
  CHECK(strcmp(weft_version_string(), want) == 0);

  weft_config cfg;
  weft_config_init(&cfg);
  cfg.stack_size = 100; /* invalid */
  CHECK_CODE(weft_init(&cfg), WEFT_EINVAL);
  cfg.stack_size = 512 * 1024;
  cfg.workers = 3;
  CHECK_OK(weft_init(&cfg));
  CHECK_CODE(weft_init(&cfg), WEFT_EBUSY);

  weft_stats st = {.size = sizeof st};
  CHECK_OK(weft_stats_get(&st));
  CHECK(st.workers == 3);

  for (int i = 0; i < 8; i++) CHECK_OK(weft_go(deep, NULL));
  while (atomic_load(&done) < 8) weft_sleep_ns(1000000);
  CHECK_OK(weft_shutdown());
  return 0;
}
