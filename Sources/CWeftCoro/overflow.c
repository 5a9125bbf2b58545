/* Naming the task whose stack overflowed: a SIGSEGV/SIGBUS handler on an
 * alternate stack. Async-signal-safe: only write(2), no allocation.
 *
 * An overflow is a fault at an address in [guard_lo, bottom + 256) (the guard
 * region, or the stack's lowest bytes for a canary-only stack), or any fault
 * while the interrupted stack pointer lies below bottom (a frame that jumped
 * past the guard and faulted further down). Only the running task is checked:
 * the worker clears the record when it switches to its own stack. */
#define _GNU_SOURCE
#include "cweft_coro.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

struct running {
  uintptr_t guard_lo, bottom;
  unsigned long long id;
  const char *name;
};

static __thread __attribute__((tls_model("initial-exec"))) struct running running;
static __thread __attribute__((tls_model("initial-exec"))) void *altstack;
static struct sigaction previous_segv, previous_bus;
static int installed;

enum { ALTSTACK_BYTES = 64 * 1024 };

void cweft_overflow_set_running(const void *guard_lo, const void *stack_bottom,
                                unsigned long long task_id, const char *name) {
  running.guard_lo = (uintptr_t)guard_lo;
  running.bottom = (uintptr_t)stack_bottom;
  running.id = task_id;
  running.name = name;
}

static void put(const char *text) {
  ssize_t ignored = write(2, text, strlen(text));
  (void)ignored;
}

static uintptr_t interrupted_sp(void *uctx) {
  ucontext_t *uc = uctx;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (uintptr_t)uc->uc_mcontext.sp;
#else
  (void)uc;
  return UINTPTR_MAX;
#endif
}

static int is_overflow(uintptr_t addr, uintptr_t sp) {
  if (running.bottom == 0) return 0;
  if (addr >= running.guard_lo && addr < running.bottom + 256) return 1;
  /* Below the stack by less than 1 GiB: this task's frames, not a wild pointer. */
  return sp < running.bottom && running.bottom - sp < ((uintptr_t)1 << 30);
}

static void on_fault(int sig, siginfo_t *info, void *uctx) {
  if (is_overflow((uintptr_t)info->si_addr, interrupted_sp(uctx))) {
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
  if (installed) return;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &previous_segv);
  sigaction(SIGBUS, &action, &previous_bus);
  installed = 1;
}

/* Puts back what was there before, unless someone replaced our handler since
 * (then theirs stays: it may chain to ours no longer, but it is theirs). */
static void restore(int sig, const struct sigaction *previous) {
  struct sigaction now;
  if (sigaction(sig, 0, &now) == 0 && (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_fault)
    sigaction(sig, previous, 0);
}

void cweft_overflow_handler_uninstall(void) {
  if (!installed) return;
  restore(SIGSEGV, &previous_segv);
  restore(SIGBUS, &previous_bus);
  installed = 0;
}

void cweft_overflow_thread_init(void) {
  void *mem = mmap(0, ALTSTACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = mem;
  ss.ss_size = ALTSTACK_BYTES;
  if (sigaltstack(&ss, 0) != 0) {
    munmap(mem, ALTSTACK_BYTES);
    return;
  }
  altstack = mem;
}

void cweft_overflow_thread_exit(void) {
  running.bottom = 0;
  if (!altstack) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, 0);
  munmap(altstack, ALTSTACK_BYTES);
  altstack = 0;
}
