/* weft-test-cflags: -Wl,--as-needed */
/* A host that loads Weft with dlopen, uses it, shuts it down, dlcloses it and
 * loads it again: the host's own SIGSEGV handler is back after weft_shutdown
 * (a fault after dlclose must not jump into unmapped code), a host thread that
 * used a blocking call exits safely after dlclose, and the second load either
 * starts afresh or (if the image stayed loaded) reports WEFT_ESHUTDOWN, never
 * crashes. Not linked against libweft: --as-needed drops the runner's -lweft. */
#define _GNU_SOURCE
#include "check.h" /* macros only: CHECK_CODE (which calls into Weft) is unused */

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  int (*init)(const weft_config *);
  int (*shutdown)(void);
  int (*go)(weft_fn, void *);
  int (*chan_make)(size_t, size_t, weft_chan_t **);
  int (*chan_send)(weft_chan_t *, const void *);
  int (*chan_recv)(weft_chan_t *, void *);
  int (*chan_release)(weft_chan_t *);
} api_t;

static api_t api;
static volatile sig_atomic_t host_faults;
static atomic_int thread_may_exit;

static void host_handler(int sig, siginfo_t *info, void *uctx) {
  (void)sig; (void)uctx;
  if (info->si_code != SI_TKILL) { /* a real fault: returning would repeat it */
    static const char text[] = "real SIGSEGV in the host (a call into unmapped code?)\n";
    ssize_t ignored = write(2, text, sizeof text - 1);
    (void)ignored;
    _exit(2);
  }
  host_faults++;
}

static void *load(api_t *a) {
  void *h = dlopen("libweft.so", RTLD_NOW | RTLD_LOCAL);
  if (!h) fprintf(stderr, "dlopen: %s\n", dlerror());
  CHECK(h != NULL);
#define SYM(field, name) CHECK((*(void **)&a->field = dlsym(h, name)) != NULL)
  SYM(init, "weft_init");
  SYM(shutdown, "weft_shutdown");
  SYM(go, "weft_go");
  SYM(chan_make, "weft_chan_make");
  SYM(chan_send, "weft_chan_send");
  SYM(chan_recv, "weft_chan_recv");
  SYM(chan_release, "weft_chan_release");
  return h;
}

static void producer(void *arg) {
  for (int i = 0; i < 100; i++) CHECK(api.chan_send(arg, &i) == 0);
}

/* Uses the runtime from a task and a plain thread; 0 when it works. */
static void use(void) {
  weft_chan_t *ch;
  CHECK(api.chan_make(sizeof(int), 0, &ch) == 0);
  CHECK(api.go(producer, ch) == 0);
  for (int i = 0; i < 100; i++) {
    int v = -1;
    CHECK(api.chan_recv(ch, &v) == 0 && v == i);
  }
  api.chan_release(ch);
}

static void *host_thread(void *arg) {
  weft_chan_t *ch = arg;
  int v = -1;
  CHECK(api.chan_recv(ch, &v) == 0 && v == 42); /* a blocking call: its thread signal */
  while (!atomic_load(&thread_may_exit)) usleep(1000);
  return NULL; /* exits after dlclose: thread-specific data must not call into it */
}

static void current_handler(struct sigaction *out) { CHECK(sigaction(SIGSEGV, NULL, out) == 0); }

int main(void) {
  struct sigaction mine;
  memset(&mine, 0, sizeof mine);
  mine.sa_sigaction = host_handler;
  mine.sa_flags = SA_SIGINFO;
  sigemptyset(&mine.sa_mask);
  CHECK(sigaction(SIGSEGV, &mine, NULL) == 0);

  void *h = load(&api);
  weft_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.workers = 2;
  cfg.shutdown_grace_ns = 200 * 1000000LL;
  CHECK(api.init(&cfg) == 0);
  use();
  struct sigaction now;
  current_handler(&now);
  CHECK(now.sa_sigaction != host_handler); /* Weft's overflow handler */

  weft_chan_t *ch;
  CHECK(api.chan_make(sizeof(int), 0, &ch) == 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, host_thread, ch) == 0);
  usleep(50 * 1000); /* the thread blocks in its receive first */
  int v = 42;
  CHECK(api.chan_send(ch, &v) == 0);
  api.chan_release(ch);

  CHECK(api.shutdown() == 0);
  current_handler(&now);
  CHECK((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == host_handler);
  CHECK(dlclose(h) == 0);
  void *still = dlopen("libweft.so", RTLD_NOW | RTLD_NOLOAD);
  printf("after dlclose the image is %s\n", still ? "still loaded" : "unloaded");
  if (still) dlclose(still);

  raise(SIGSEGV); /* the host's handler, not a jump into unmapped code */
  CHECK(host_faults == 1);
  atomic_store(&thread_may_exit, 1);
  CHECK(pthread_join(t, NULL) == 0);

  h = load(&api);
  int rc = api.init(&cfg);
  printf("second load: weft_init -> %d\n", rc);
  CHECK(rc == 0 || rc == WEFT_ESHUTDOWN);
  if (rc == 0) {
    use();
    CHECK(api.shutdown() == 0);
  } else {
    CHECK(api.go(producer, NULL) == WEFT_ESHUTDOWN);
  }
  CHECK(dlclose(h) == 0);
  return 0;
}
