/* Timer channels: weft_after fires once with weft_now_ns(), never early; a
 * select times out on it; stop before firing returns 1 and nothing arrives;
 * tickers tick, drop ticks while full, stop; 100,000 pending timers are cheap
 * to make and to drop. From tasks and threads. */
#include "chan_test_util.h"

#include <unistd.h>

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void after_basics(void *unused) {
  (void)unused;
  int64_t t0 = weft_now_ns(), at = 0;
  weft_chan_t *t;
  CHECK_OK(weft_after(3000000, &t));
  CHECK(weft_chan_elem_size(t) == sizeof(int64_t) && weft_chan_cap(t) == 1);
  CHECK_OK(weft_chan_recv(t, &at));
  CHECK(at - t0 >= 3000000); /* never early */
  CHECK(weft_now_ns() >= at);
  CHECK_CODE(weft_chan_recv_until(t, &at, weft_now_ns() + 5000000), WEFT_ETIMEDOUT); /* once */
  CHECK(weft_timer_stop(t) == 0); /* already fired */
  CHECK_OK(weft_chan_release(t));

  /* select with a timeout */
  weft_chan_t *never;
  CHECK_OK(weft_chan_make(sizeof(int), 0, &never));
  CHECK_OK(weft_after(2000000, &t));
  int v;
  weft_case cases[2] = {{never, WEFT_CASE_RECV, &v, 0}, {t, WEFT_CASE_RECV, &at, 0}};
  CHECK(weft_select(cases, 2, 0, WEFT_NO_DEADLINE) == 1);
  CHECK(cases[1].result == 0 && at - t0 >= 2000000);
  CHECK_OK(weft_chan_release(t));

  /* stopped before firing: 1, then nothing arrives; second stop: 0 */
  CHECK_OK(weft_after(2000000, &t));
  CHECK(weft_timer_stop(t) == 1);
  CHECK(weft_timer_stop(t) == 0);
  CHECK_CODE(weft_chan_recv_until(t, &at, weft_now_ns() + 6000000), WEFT_ETIMEDOUT);
  CHECK_OK(weft_chan_release(t));

  /* zero and negative durations fire at once */
  CHECK_OK(weft_after(0, &t));
  CHECK_OK(weft_chan_try_recv(t, &at));
  CHECK_OK(weft_chan_release(t));
  CHECK_OK(weft_after(-5, &t));
  CHECK_OK(weft_chan_recv(t, &at));
  CHECK_OK(weft_chan_release(t));
  CHECK_OK(weft_chan_release(never));

  /* a ticker: ticks keep coming about a period apart; a full channel drops */
  weft_chan_t *tk;
  CHECK_OK(weft_ticker_make(2000000, &tk));
  int64_t prev = weft_now_ns();
  for (int i = 0; i < 5; i++) {
    CHECK_OK(weft_chan_recv(tk, &at));
    CHECK(at >= prev);
    prev = at;
  }
  weft_sleep_ns(15000000); /* ~7 periods while nobody receives */
  CHECK(weft_chan_len(tk) == 1); /* capacity 1: the rest were dropped */
  CHECK(weft_timer_stop(tk) == 1);
  CHECK(weft_timer_stop(tk) == 0);
  CHECK_OK(weft_chan_try_recv(tk, &at)); /* the buffered tick stays */
  CHECK_CODE(weft_chan_recv_until(tk, &at, weft_now_ns() + 6000000), WEFT_ETIMEDOUT);
  CHECK_OK(weft_chan_release(tk));
}

enum { MANY = 100000 };

static void many_pending(void *unused) {
  (void)unused;
  weft_chan_t **ts = malloc(MANY * sizeof *ts);
  long rss0 = rss_kb();
  int64_t t0 = weft_now_ns();
  for (int i = 0; i < MANY; i++) CHECK_OK(weft_after(3600LL * 1000000000LL, &ts[i])); /* an hour */
  int64_t made = weft_now_ns() - t0;
  long rss1 = rss_kb();
  weft_stats st;
  st.size = sizeof st;
  CHECK_OK(weft_stats_get(&st));
  printf("%d pending timers: made in %.1f ms (%.0f ns each), %ld KiB (%ld B each), stats say %llu pending\n",
         MANY, made / 1e6, (double)made / MANY, rss1 - rss0, (rss1 - rss0) * 1024 / MANY,
         (unsigned long long)st.timers_pending);
  CHECK(made < 2000000000LL); /* generous: debug builds on a shared machine */
  CHECK((rss1 - rss0) * 1024 / MANY < 2048);
  /* half stopped explicitly, half just released (release cancels) */
  t0 = weft_now_ns();
  for (int i = 0; i < MANY; i++) {
    if (i % 2 == 0) CHECK(weft_timer_stop(ts[i]) == 1);
    CHECK_OK(weft_chan_release(ts[i]));
  }
  printf("dropped in %.1f ms\n", (weft_now_ns() - t0) / 1e6);
  free(ts);
  /* the loops let go of them */
  for (int i = 0; i < 200; i++) {
    CHECK_OK(weft_stats_get(&st));
    if (st.timers_pending < 100) break;
    weft_sleep_ns(5000000);
  }
  CHECK(st.timers_pending < 100);
}

int main(void) {
  weft_chan_t *done = make_done(2);
  after_basics(NULL);                           /* main thread */
  spawn_in(MODE_TASK, after_basics, NULL, done); /* a task */
  spawn_in(MODE_THREAD, after_basics, NULL, done);
  wait_done(done, 2);
  spawn_in(MODE_TASK, many_pending, NULL, done);
  wait_done(done, 1);
  many_pending(NULL);
  CHECK_OK(weft_chan_release(done));
  return 0;
}
