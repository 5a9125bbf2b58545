/* Bad input returns error codes; nothing aborts. Calls after shutdown fail. */
#include "check.h"

#include <string.h>

static void nop(void *arg) { (void)arg; }

int main(void) {
  CHECK_CODE(weft_go(NULL, NULL), WEFT_EINVAL);
  weft_task_opts opts;
  weft_task_opts_init(&opts);
  opts.stack_size = 1024; /* too small */
  CHECK_CODE(weft_go_opts(nop, NULL, &opts), WEFT_EINVAL);
  opts.stack_size = (size_t)1 << 40; /* absurd */
  CHECK_CODE(weft_go_opts(nop, NULL, &opts), WEFT_EINVAL);
  opts.stack_size = 0;
  opts.size = 3; /* a struct from a confused caller */
  CHECK_CODE(weft_go_opts(nop, NULL, &opts), WEFT_EINVAL);
  CHECK_CODE(weft_go_opts(NULL, NULL, NULL), WEFT_EINVAL);
  CHECK_OK(weft_go_opts(nop, NULL, NULL)); /* NULL opts: defaults */

  weft_config cfg;
  weft_config_init(&cfg);
  CHECK(cfg.size == sizeof cfg);
  CHECK_CODE(weft_init(&cfg), WEFT_EBUSY); /* already started by weft_go */

  weft_stats st;
  memset(&st, 0, sizeof st);
  CHECK_CODE(weft_stats_get(&st), WEFT_EINVAL); /* size not set */
  CHECK_CODE(weft_stats_get(NULL), WEFT_EINVAL);
  CHECK_CODE(weft_dump_tasks(-1), WEFT_EINVAL);

  CHECK(strcmp(weft_strerror(WEFT_EINVAL), "invalid argument") == 0);
  CHECK(strcmp(weft_strerror(12345), "unknown error") == 0);
  CHECK(strcmp(weft_err_name(WEFT_ETIMEDOUT), "WEFT_ETIMEDOUT") == 0);
  CHECK(strcmp(weft_strerror(0), "success") == 0);

  CHECK_OK(weft_shutdown());
  CHECK_OK(weft_shutdown()); /* idempotent */
  CHECK_CODE(weft_go(nop, NULL), WEFT_ESHUTDOWN);
  CHECK_CODE(weft_init(NULL), WEFT_ESHUTDOWN);
  CHECK_CODE(weft_sleep_ns(1000000), WEFT_ESHUTDOWN);
  return 0;
}
