/* Blocking offload: the pool runs blocking calls while tasks park (the
 * workers stay free), a deadline or context ends the wait but the function
 * still runs to its end, the pool size comes from weft_config and bounds the
 * concurrency, plain threads use it too. */
#include "io_util.h"

#include <stdatomic.h>
#include <string.h>

static atomic_int running, peak, finished;

static void blocking_sleep(void *arg) {
  int now = atomic_fetch_add(&running, 1) + 1;
  int seen = atomic_load(&peak);
  while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now)) {}
  usleep((useconds_t)(intptr_t)arg);
  atomic_fetch_sub(&running, 1);
  atomic_fetch_add(&finished, 1);
}

static void offloader(void *arg) {
  (void)arg;
  CHECK_OK(weft_offload(blocking_sleep, (void *)(intptr_t)20000));
}

static atomic_int ticks;
static void ticker(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; i++) {
    weft_sleep_ns(MS);
    atomic_fetch_add(&ticks, 1);
  }
}

struct file_job { const char *path; char first[8]; int rc; };
static void read_file(void *arg) {
  struct file_job *j = arg;
  FILE *f = fopen(j->path, "rb");
  j->rc = f && fread(j->first, 1, 4, f) == 4 ? 0 : -1;
  if (f) fclose(f);
}

static void file_task(void *arg) {
  struct file_job *j = arg;
  CHECK_OK(weft_offload(read_file, j));
}

int main(void) {
  weft_config cfg;
  weft_config_init(&cfg);
  cfg.workers = 2;
  cfg.offload_threads = 4;
  CHECK_OK(weft_init(&cfg));
  CHECK_CODE(weft_offload(NULL, NULL), WEFT_EINVAL);

  /* 16 tasks each offload a 20 ms blocking call: at most 4 run at once, and
   * the workers keep running other tasks meanwhile. */
  weft_wg_t *wg;
  CHECK_OK(weft_wg_make(&wg));
  int64_t t = weft_now_ns();
  for (int i = 0; i < 16; i++) CHECK_OK(weft_wg_go(wg, offloader, NULL));
  CHECK_OK(weft_wg_go(wg, ticker, NULL));
  CHECK_OK(weft_wg_wait(wg));
  int64_t took = weft_now_ns() - t;
  CHECK(atomic_load(&finished) == 16);
  CHECK(atomic_load(&peak) <= 4);
  CHECK(atomic_load(&peak) >= 2);
  CHECK(took >= 4 * 20 * MS); /* 16 jobs / 4 threads x 20 ms */
  CHECK(atomic_load(&ticks) == 20);

  /* A deadline ends the wait; the job still finishes on its thread. */
  atomic_store(&finished, 0);
  t = weft_now_ns();
  CHECK_CODE(weft_offload_until(blocking_sleep, (void *)(intptr_t)50000, t + 10 * MS), WEFT_ETIMEDOUT);
  CHECK(weft_now_ns() - t < 45 * MS);
  for (int i = 0; i < 1000 && atomic_load(&finished) < 1; i++) weft_sleep_ns(MS);
  CHECK(atomic_load(&finished) == 1);

  /* A context: canceled before the call, and during it. */
  weft_ctx_t *ctx;
  CHECK_OK(weft_ctx_with_cancel(NULL, &ctx));
  weft_ctx_cancel(ctx);
  CHECK_CODE(weft_offload_ctx(blocking_sleep, (void *)(intptr_t)1000, ctx), WEFT_ECANCELED);
  weft_ctx_release(ctx);
  CHECK_OK(weft_ctx_with_timeout(NULL, 10 * MS, &ctx));
  CHECK_CODE(weft_offload_ctx(blocking_sleep, (void *)(intptr_t)40000, ctx), WEFT_ETIMEDOUT);
  weft_ctx_release(ctx);
  CHECK_OK(weft_offload_ctx(blocking_sleep, (void *)(intptr_t)1000, NULL));

  /* File I/O from a task. */
  struct file_job j = {.path = "/proc/self/exe"};
  CHECK_OK(weft_wg_go(wg, file_task, &j));
  CHECK_OK(weft_wg_wait(wg));
  CHECK(j.rc == 0 && memcmp(j.first, "\177ELF", 4) == 0);
  weft_wg_release(wg);
  for (int i = 0; i < 1000 && atomic_load(&running) > 0; i++) weft_sleep_ns(MS);
  expect_no_tasks();
  CHECK_OK(weft_shutdown());
  CHECK_CODE(weft_offload(blocking_sleep, (void *)(intptr_t)1), WEFT_ESHUTDOWN);
  puts("offload ok");
  return 0;
}
