/* CWeftCoro: what Swift cannot do itself — switching stacks and a thread-local
 * slot. Everything else (scheduling, stacks, pools) lives in Swift. */
#ifndef CWEFT_CORO_H
#define CWEFT_CORO_H

#include <stddef.h>

/* A suspended execution context: its saved stack pointer plus the stack bounds
 * the sanitizers need to hear about when we switch to it. */
typedef struct cweft_context {
  void *sp;
  const void *stack_bottom;
  size_t stack_size;
  /* The sanitizer's per-context state: ASan's fake stack, or TSan's fiber (the
   * two sanitizers never run together). */
  void *sanitizer;
} cweft_context;

typedef void (*cweft_entry)(void *arg);

/* Prepares ctx so that the first switch to it calls entry(arg) on the stack
 * [bottom, bottom + size). entry must never return: it switches away for good. */
void cweft_context_make(cweft_context *ctx, void *bottom, size_t size,
                        cweft_entry entry, void *arg);

/* Saves the callee-saved registers, MXCSR and the x87 control word (FPCR on
 * aarch64) in from and resumes to. Announces the switch to ASan/TSan when built
 * with them. */
void cweft_context_switch(cweft_context *from, cweft_context *to);

/* Describes the calling thread's own stack in ctx (a worker's scheduler context),
 * so the sanitizers know where a switch back to it lands. */
void cweft_context_init_thread(cweft_context *ctx);

/* The first thing a new context does (before entry's body): completes the
 * sanitizer's view of the switch that started it. A no-op without ASan. */
void cweft_context_started(void);

/* The calling thread's slot (the current worker). Out of line on purpose: a
 * task can resume on another thread, so no caller may cache the address. */
void *cweft_tls_get(void);
void cweft_tls_set(void *value);

/* Stack-overflow reporting. A fault inside the guard region below a task's
 * stack, or any fault while the task's stack pointer is below its stack (a frame
 * that jumped past the guard), is a stack overflow: the handler (async-signal-
 * safe C, on an alternate signal stack) prints the task's id and name and
 * aborts. Other faults go to the handler that was installed before. The worker
 * describes the task it runs in a thread-local record before each switch.
 * uninstall puts the previous handlers back (weft_shutdown, before a dlclose);
 * thread_exit removes and frees the calling worker's alternate stack. */
void cweft_overflow_handler_install(void);   /* once per runtime start */
void cweft_overflow_handler_uninstall(void);
void cweft_overflow_thread_init(void);       /* once per worker thread */
void cweft_overflow_thread_exit(void);
void cweft_overflow_set_running(const void *guard_lo, const void *stack_bottom,
                                unsigned long long task_id, const char *name);

/* Tells ASan that [addr, addr + size) may be written (a pooled stack whose last
 * task left redzones behind). A no-op without ASan. */
void cweft_memory_unpoison(void *addr, size_t size);

/* The Swift runtime's own swift_tryRetain (HeapObject.h, C calling convention):
 * retains object and returns it, or returns NULL when it is already deiniting.
 * Declared here so the link binds it, whether the runtime is a shared library or
 * linked into libweft.so with its symbols local (where dlsym cannot see it). */
void *swift_tryRetain(void *object);

/* The spin-wait hint (x86 PAUSE, arm YIELD): Swift has no spelling for it. */
static inline void cweft_cpu_relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
