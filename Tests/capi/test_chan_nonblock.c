/* Go's test/chan/nonblock.go: try_send / try_recv against a partner that
 * blocks, for unbuffered and buffered channels and every element size class,
 * partners in tasks and on threads. */
#include "chan_test_util.h"

#include <string.h>

enum { MAX_TRIES = 10000000 };

typedef struct {
  weft_chan_t *c;
  weft_chan_t *sync;
  size_t size;
} part_t;

static void fill(unsigned char *buf, size_t size, unsigned char seed) {
  for (size_t i = 0; i < size; i++) buf[i] = (unsigned char)(seed + i);
}

static void receiver(void *raw) {
  part_t *p = raw;
  unsigned char buf[64], want[64];
  fill(want, p->size, 123);
  CHECK_OK(weft_chan_recv(p->c, buf));
  CHECK(memcmp(buf, want, p->size) == 0);
  CHECK_OK(weft_chan_send(p->sync, NULL));
}

static void sender(void *raw) {
  part_t *p = raw;
  unsigned char buf[64];
  fill(buf, p->size, 234);
  CHECK_OK(weft_chan_send(p->c, buf));
  CHECK_OK(weft_chan_send(p->sync, NULL));
}

static void pause_(void) { weft_sleep_ns(1000); }

int main(void) {
  size_t sizes[] = {1, 4, 8, 16, 64, 0};
  for (int mode = 0; mode < 2; mode++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
      for (size_t buffer = 0; buffer < 2; buffer++) {
        part_t p = {.size = sizes[s]};
        CHECK_OK(weft_chan_make(p.size, buffer, &p.c));
        CHECK_OK(weft_chan_make(0, 0, &p.sync));
        weft_chan_t *done = make_done(2);
        unsigned char buf[64], want[64];

        CHECK_CODE(weft_chan_try_recv(p.c, buf), WEFT_EAGAIN); /* nothing there */

        spawn_in(mode, receiver, &p, done);
        fill(buf, p.size, 123);
        int tries = 0;
        while (weft_chan_try_send(p.c, buf) == WEFT_EAGAIN) {
          CHECK(++tries < MAX_TRIES);
          pause_();
        }
        CHECK_OK(weft_chan_recv(p.sync, NULL));

        spawn_in(mode, sender, &p, done);
        if (buffer > 0) CHECK_OK(weft_chan_recv(p.sync, NULL));
        tries = 0;
        int rc;
        while ((rc = weft_chan_try_recv(p.c, buf)) == WEFT_EAGAIN) {
          CHECK(++tries < MAX_TRIES);
          pause_();
        }
        CHECK_OK(rc);
        fill(want, p.size, 234);
        CHECK(memcmp(buf, want, p.size) == 0);
        if (buffer == 0) CHECK_OK(weft_chan_recv(p.sync, NULL));
        wait_done(done, 2);
        CHECK_OK(weft_chan_release(p.c));
        CHECK_OK(weft_chan_release(p.sync));
        CHECK_OK(weft_chan_release(done));
      }
  return 0;
}
