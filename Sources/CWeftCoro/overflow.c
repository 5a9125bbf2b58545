/* Naming the task whose stack overflowed: a SIGSEGV/SIGBUS handler on an
 * alternate stack. Async-signal-safe: only write(2), no allocation. */
#define _GNU_SOURCE
#include "cweft_coro.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct running {
  uintptr_t guard_lo, guard_hi;
  unsigned long long id;
  const char *name;
};

static __thread __attribute__((tls_model("initial-exec"))) struct running running;
static struct sigaction previous_segv, previous_bus;

void cweft_overflow_set_running(const void *guard_lo, const void *guard_hi,
                                unsigned long long task_id, const char *name) {
  running.guard_lo = (uintptr_t)guard_lo;
  running.guard_hi = (uintptr_t)guard_hi;
  running.id = task_id;
  running.name = name;
}

static void put(const char *text) {
  ssize_t ignored = write(2, text, strlen(text));
  (void)ignored;
}

static void on_fault(int sig, siginfo_t *info, void *uctx) {
  uintptr_t addr = (uintptr_t)info->si_addr;
  if (running.guard_hi != 0 && addr >= running.guard_lo && addr < running.guard_hi) {
    char digits[24];
    int n = 0;
    unsigned long long id = running.id;
    do { digits[n++] = (char)('0' + id % 10); id /= 10; } while (id && n < 23);
    char id_text[24];
    for (int i = 0; i < n; i++) id_text[i] = digits[n - 1 - i];
    id_text[n] = 0;
    put("weft: stack overflow in task ");
    put(id_text);
    put(" '");
    put(running.name ? running.name : "");
    put("'; aborting\n");
    signal(SIGABRT, SIG_DFL);
    abort();
  }
  /* Not ours: hand over to whoever was there before (or the default). */
  struct sigaction *prev = sig == SIGSEGV ? &previous_segv : &previous_bus;
  if (prev->sa_flags & SA_SIGINFO) {
    if (prev->sa_sigaction) { prev->sa_sigaction(sig, info, uctx); return; }
  } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL); /* returning re-executes the fault under the default */
}

void cweft_overflow_handler_install(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &previous_segv);
  sigaction(SIGBUS, &action, &previous_bus);
}

void cweft_overflow_thread_init(void) {
  size_t size = 64 * 1024;
  void *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = mem;
  ss.ss_size = size;
  sigaltstack(&ss, 0);
}
